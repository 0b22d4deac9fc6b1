"""churn_predictions: sessions_per_month, clv, revenue_at_risk (issue 13: the CS worklist sorts by revenue at risk)

Revision ID: 0006_churn
Revises: 0005_run_commits
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_churn'
down_revision = '0005_run_commits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('churn_predictions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_per_month', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('clv', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('revenue_at_risk', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_churn_predictions_revenue_at_risk'), ['revenue_at_risk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('churn_predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_churn_predictions_revenue_at_risk'))
        batch_op.drop_column('revenue_at_risk')
        batch_op.drop_column('clv')
        batch_op.drop_column('sessions_per_month')
