"""e-mail: verified addresses, reminder channels, one delivery per channel; calendar feeds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:45:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on users (see 0005: batch mode would drop a table others refer to).
    op.add_column('users', sa.Column('email_verified', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('email_bounced_at', pnapp.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('email_reminders', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('users', sa.Column('reminder_channels', sa.String(length=16), server_default='push', nullable=False))
    op.add_column('users', sa.Column('push_blocked', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('push_gone_at', pnapp.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('reset_requested_at', pnapp.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('calendar_token', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_users_calendar_token'), 'users', ['calendar_token'], unique=True)
    # Nothing refers to deliveries, so batch mode may copy it on SQLite.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='push', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_deliveries_user_id_kind_period'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_deliveries_user_id_kind_period_channel'), ['user_id', 'kind', 'period', 'channel'])


def downgrade():
    op.execute("DELETE FROM deliveries WHERE channel <> 'push'")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_deliveries_user_id_kind_period_channel'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_deliveries_user_id_kind_period'), ['user_id', 'kind', 'period'])
        batch_op.drop_column('channel')
    op.drop_index(op.f('ix_users_calendar_token'), table_name='users')
    for column in ('calendar_token', 'reset_requested_at', 'push_gone_at', 'push_blocked',
                   'reminder_channels',
                   'email_reminders', 'email_bounced_at', 'email_verified'):
        op.drop_column('users', column)
