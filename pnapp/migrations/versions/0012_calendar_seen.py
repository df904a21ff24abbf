"""reminders: when a calendar app last read the person's feed (a road Settings names)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 06:10:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'users',
        sa.Column('calendar_seen_at', pnapp.models.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_column('users', 'calendar_seen_at')
