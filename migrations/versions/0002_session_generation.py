"""users.session_generation: sign-out, password change, deactivation and role change end existing sessions

Revision ID: 0002_sessions
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_sessions'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
