"""logins kept on the server, password lockout

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:40:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('created_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logins')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_logins_token_hash'))
    )
    op.create_index(op.f('ix_logins_user_id'), 'logins', ['user_id'], unique=False)

    # Plain ALTER TABLE, not Alembic's batch mode: batch mode copies and drops `users`, and on
    # SQLite dropping a table with foreign keys on deletes every row that refers to it.
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', pnapp.models.UTCDateTime(timezone=True), nullable=True))
    # Cookies named "<user id>.<epoch>" are not logins: everyone logs in once more.
    op.execute('ALTER TABLE users DROP COLUMN session_epoch')
    # Nothing refers to push_subscriptions, so batch mode may copy and drop it on SQLite.
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_push_subscriptions_login_id_logins'), 'logins', ['login_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_push_subscriptions_login_id'), ['login_id'], unique=False)

def downgrade():
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_login_id'))
        batch_op.drop_constraint(batch_op.f('fk_push_subscriptions_login_id_logins'), type_='foreignkey')
        batch_op.drop_column('login_id')
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')
    op.drop_index(op.f('ix_logins_user_id'), table_name='logins')
    op.drop_table('logins')
