"""links: SMART Health Links a patient gives a therapist or a doctor

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:00:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('manifest_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('contents', sa.JSON(), nullable=False),
        sa.Column('with_notes', sa.Boolean(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('passcode_hash', sa.String(length=200), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('opens', sa.Integer(), nullable=False),
        sa.Column('last_opened_at', pnapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', pnapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['users.id'], name=op.f('fk_links_patient_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_links')),
        sa.UniqueConstraint('manifest_hash', name=op.f('uq_links_manifest_hash')),
    )
    op.create_index(op.f('ix_links_patient_id'), 'links', ['patient_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_links_patient_id'), table_name='links')
    op.drop_table('links')
