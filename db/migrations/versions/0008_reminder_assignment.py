"""who is on a reminder: the person it is assigned to (or who took it by acknowledging it), and
who acknowledged it last and when; the person each assignment named

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00

Three columns on ``reminder`` (the effect of people's actions, kept beside the derived columns as
``snoozed_until`` and ``dismissed_on`` are) and one on ``reminder_action`` (the person an
``assign`` action named). Existing rows get the last acknowledgement from the action log, so
what colleagues already acknowledged shows on the worklist after the upgrade; nobody is assigned
(the old actions named no person, only an actor).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

LAST_ACK = ("(SELECT {column} FROM reminder_action WHERE reminder_action.reminder_id = reminder.id "
            "AND reminder_action.action = 'acknowledge' ORDER BY reminder_action.id DESC LIMIT 1)")


def upgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by', sqlmodel.sql.sqltypes.AutoString(length=128),
                                      nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reminder_assignee'), ['assignee'], unique=False)
    with op.batch_alter_table('reminder_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    op.execute(f"UPDATE reminder SET acknowledged_by = {LAST_ACK.format(column='actor')}, "
               f"acknowledged_at = {LAST_ACK.format(column='recorded_at')}")


def downgrade() -> None:
    with op.batch_alter_table('reminder_action', schema=None) as batch_op:
        batch_op.drop_column('assignee')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_assignee'))
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('acknowledged_by')
        batch_op.drop_column('assignee')
