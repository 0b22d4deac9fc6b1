"""Ingest that never loses data: customers.signup_date as a full timestamp, the contract's optional
contact fields (customers name/email/phone) and session price, deleted_rows and reconcile_state for
rows deleted at the source

Revision ID: 0004_ingest
Revises: 0003_worklist
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_ingest'
down_revision = '0003_worklist'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('signup_date', existing_type=sa.Date(), type_=sa.DateTime(), existing_nullable=False,
                              postgresql_using='signup_date::timestamp')
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price', sa.Float(), nullable=True))
    op.create_table(
        'deleted_rows',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('record', sa.String(length=64), nullable=False),
        sa.Column('row_key', sa.String(length=255), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deleted_rows')),
        sa.UniqueConstraint('record', 'row_key', 'deleted_at', name='uq_deleted_rows_row'),
    )
    with op.batch_alter_table('deleted_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deleted_rows_deleted_at'), ['deleted_at'], unique=False)
    op.create_table(
        'reconcile_state',
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('record', sa.String(length=64), nullable=False),
        sa.Column('reconciled_at', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Integer(), nullable=False),
        sa.Column('deleted_total', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'record', name=op.f('pk_reconcile_state')),
    )


def downgrade() -> None:
    op.drop_table('reconcile_state')
    with op.batch_alter_table('deleted_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deleted_rows_deleted_at'))
    op.drop_table('deleted_rows')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('price')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
        batch_op.drop_column('name')
        batch_op.alter_column('signup_date', existing_type=sa.DateTime(), type_=sa.Date(), existing_nullable=False,
                              postgresql_using='signup_date::date')
