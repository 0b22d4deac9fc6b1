"""job_run_commits: what a running job has committed, so an abandoned run can say it

Revision ID: 0005_run_commits
Revises: 0004_ingest
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_run_commits'
down_revision = '0004_ingest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_run_commits',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run_commits')),
    )
    with op.batch_alter_table('job_run_commits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_commits_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_run_commits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_commits_run_id'))
    op.drop_table('job_run_commits')
