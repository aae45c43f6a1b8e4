"""audit entries (the day's verdict per patient); the sweep's covering index holds anchor_on

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COVERING = ['closed', 'due_on', 'id', 'kind', 'status', 'announced', 'snoozed_until', 'dismissed_on',
            'patient_id']


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('patient_version', sa.Integer(), nullable=False),
    sa.Column('timing', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detected_on', sa.Date(), nullable=False),
    sa.Column('eligible', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('tally', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('deviations', sa.JSON(), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('patient_id')
    )
    # the sweep reads what it announces (anchor_on too) from the partial covering index
    op.drop_index('ix_reminder_open_due_covering', table_name='reminder')
    op.create_index('ix_reminder_open_due_covering', 'reminder', [*COVERING, 'anchor_on'],
                    unique=False, sqlite_where=sa.text('closed = 0'),
                    postgresql_where=sa.text('closed = false'))


def downgrade() -> None:
    op.drop_index('ix_reminder_open_due_covering', table_name='reminder')
    op.create_index('ix_reminder_open_due_covering', 'reminder', COVERING,
                    unique=False, sqlite_where=sa.text('closed = 0'),
                    postgresql_where=sa.text('closed = false'))
    op.drop_table('audit_entry')
