"""caregivers who help: the access log, encouragements, and what a caregiver is told when a share ends

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:27:37.031321

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('viewer_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('what', sa.String(length=16), nullable=False),
    sa.Column('at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_access_log_patient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['viewer_id'], ['users.id'], name=op.f('fk_access_log_viewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_access_log_patient_at', ['patient_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_viewer_id'), ['viewer_id'], unique=False)

    op.create_table('encouragements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=32), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('sent_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caregiver_id'], ['users.id'], name=op.f('fk_encouragements_caregiver_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_encouragements_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encouragements')),
    sa.UniqueConstraint('patient_id', 'caregiver_id', 'day', name=op.f('uq_encouragements_patient_id_caregiver_id_day'))
    )
    with op.batch_alter_table('encouragements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encouragements_caregiver_id'), ['caregiver_id'], unique=False)

    op.create_table('ended_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('ended_by', sa.String(length=16), nullable=False),
    sa.Column('ended_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caregiver_id'], ['users.id'], name=op.f('fk_ended_shares_caregiver_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_ended_shares_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ended_shares')),
    sa.UniqueConstraint('patient_id', 'caregiver_id', name=op.f('uq_ended_shares_patient_id_caregiver_id'))
    )
    with op.batch_alter_table('ended_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_shares_caregiver_id'), ['caregiver_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encouragements', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('encouragements')

    with op.batch_alter_table('ended_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_shares_caregiver_id'))

    op.drop_table('ended_shares')
    with op.batch_alter_table('encouragements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encouragements_caregiver_id'))

    op.drop_table('encouragements')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_viewer_id'))
        batch_op.drop_index('ix_access_log_patient_at')
        batch_op.drop_index(batch_op.f('ix_access_log_at'))

    op.drop_table('access_log')
