"""progress over months: PGIC answers; full name, birth date and paper size for the report

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import pnapp.models  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pgic_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('answered_at', pnapp.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value BETWEEN 1 AND 7', name=op.f('ck_pgic_answers_value')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_pgic_answers_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pgic_answers'))
    )
    op.create_index('ix_pgic_answers_patient_answered', 'pgic_answers', ['patient_id', 'answered_at'], unique=False)

    # Plain ALTER TABLE on users (see 0005: batch mode would drop a table others refer to).
    op.add_column('users', sa.Column('full_name', sa.String(length=120), nullable=True))
    op.add_column('users', sa.Column('birth_date', sa.Date(), nullable=True))
    op.add_column('users', sa.Column('paper_size', sa.String(length=8), nullable=True))
    op.add_column('users', sa.Column('pgic_asked_at', pnapp.models.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    for column in ('pgic_asked_at', 'paper_size', 'birth_date', 'full_name'):
        op.drop_column('users', column)
    op.drop_index('ix_pgic_answers_patient_answered', table_name='pgic_answers')
    op.drop_table('pgic_answers')
