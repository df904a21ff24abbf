"""operations: each scheduler process's last pass and channel answers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_runs',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('started_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_pass_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_success_at', pnapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('passes', sa.Integer(), nullable=False),
        sa.Column('failed_passes', sa.Integer(), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_runs')),
    )


def downgrade():
    op.drop_table('scheduler_runs')
