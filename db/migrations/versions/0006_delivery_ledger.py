"""the delivery ledger: notifications delivered before a restore, so the restored database never
sends them again (issue 18)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 12:00:00

A new table, empty until a restore carries the live database's deliveries into the restored one
(db.outbox.carry_deliveries); nothing existing changes.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delivered_notice',
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint')
    )


def downgrade() -> None:
    op.drop_table('delivered_notice')
