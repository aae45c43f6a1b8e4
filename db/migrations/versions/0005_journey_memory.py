"""the fold's memory of each patient after the last entry (issue 17): an entry dated on or after it
is applied to it instead of replaying the whole log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:00:00

Derived data: a patient without a row here is replayed from the log on the next write, which
writes the row; nothing needs filling in.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('journey_memory',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('log_length', sa.Integer(), nullable=False),
    sa.Column('memory', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('patient_id')
    )


def downgrade() -> None:
    op.drop_table('journey_memory')
