"""CS worklist: customer_tasks, customer_work (owner, last contact, next follow-up), saved_views,
contact_log.follow_up_at

Revision ID: 0003_worklist
Revises: 0002_sessions
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_worklist'
down_revision = '0002_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_tasks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('trigger', sa.String(length=64), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('why', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('waiting_until', sa.DateTime(), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_reason', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_customer_tasks_customer_status', 'customer_tasks', ['customer_id', 'status'])
    op.create_index('ix_customer_tasks_status', 'customer_tasks', ['status'])
    op.create_table(
        'customer_work',
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('owner_email', sa.String(length=255), nullable=True),
        sa.Column('assigned_at', sa.DateTime(), nullable=True),
        sa.Column('assigned_by', sa.String(length=255), nullable=True),
        sa.Column('last_contacted_at', sa.DateTime(), nullable=True),
        sa.Column('next_follow_up_at', sa.DateTime(), nullable=True),
        sa.Column('open_tasks', sa.Integer(), server_default='0', nullable=False),
        sa.Column('waiting_tasks', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('customer_id'),
    )
    op.create_index('ix_customer_work_owner_email', 'customer_work', ['owner_email'])
    op.create_index('ix_customer_work_last_contacted_at', 'customer_work', ['last_contacted_at'])
    op.create_index('ix_customer_work_next_follow_up_at', 'customer_work', ['next_follow_up_at'])
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_email', sa.String(length=255), nullable=False),
        sa.Column('page', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_email', 'page', 'name', name='uq_saved_views_name'),
    )
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.drop_column('follow_up_at')
    op.drop_table('saved_views')
    op.drop_index('ix_customer_work_next_follow_up_at', table_name='customer_work')
    op.drop_index('ix_customer_work_last_contacted_at', table_name='customer_work')
    op.drop_index('ix_customer_work_owner_email', table_name='customer_work')
    op.drop_table('customer_work')
    op.drop_index('ix_customer_tasks_status', table_name='customer_tasks')
    op.drop_index('ix_customer_tasks_customer_status', table_name='customer_tasks')
    op.drop_table('customer_tasks')
