"""health_score_history (day, tier) and churn_prediction_history (day) indexes (issue 16: the backfill writes 12
weeks of daily history at once; the overview's per-day tier counts and the churn risk trend read by day, which
the (customer_id, day) keys cannot serve: without these every read scanned every customer's every day)

Revision ID: 0007_history_days
Revises: 0006_churn
"""
from alembic import op


revision = '0007_history_days'
down_revision = '0006_churn'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_health_score_history_day_tier', 'health_score_history', ['day', 'tier'], unique=False)
    op.create_index('ix_churn_prediction_history_day', 'churn_prediction_history', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_churn_prediction_history_day', table_name='churn_prediction_history')
    op.drop_index('ix_health_score_history_day_tier', table_name='health_score_history')
