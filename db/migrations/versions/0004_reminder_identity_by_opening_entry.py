"""reminders identified by the entry that opened them (contract 1.1, §7.1); the entry that closed
them; a due date that moves while a line is held; the version of the rules that derived a patient

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00

A reminder used to be identified by (kind, anchor date), so a second entry on the same day
silently replaced the first's reminder. It is now (kind, opening entry). Existing rows get the
seq of the entry of the right kind on their anchor date (the latest, which the open reminder
belongs to), or, failing one, a negative number unique to the row. The derived state (phase and
reminders) is then re-derived from the log under the new rules on start-up, because
``patient.derived_with`` is empty (tracker: ``rederive_stale``); nothing recorded changes.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_COVERING = ['closed', 'due_on', 'id', 'kind', 'status', 'announced', 'snoozed_until',
                'dismissed_on', 'patient_id', 'anchor_on']
#: the entry types that opened each kind of reminder before this revision
OPENERS = {
    'reassessment_due': ('systemic_started', 'reassessment'),
    'total_chemo_check': ('systemic_started',),
    'recurrence_mdt': ('recurrence',),
    'r1_postop_therapy': ('surgery',),
}


def upgrade() -> None:
    op.drop_index('ix_reminder_open_due_covering', table_name='reminder')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('held_since', sa.Date(), nullable=True))
    for kind, types in OPENERS.items():
        listed = ", ".join(f"'{t}'" for t in types)
        op.execute(
            "UPDATE reminder SET opened_by = (SELECT MAX(event.seq) FROM event "
            "WHERE event.patient_id = reminder.patient_id AND event.date = reminder.anchor_on "
            f"AND event.type IN ({listed})) WHERE kind = '{kind}'")
    op.execute("UPDATE reminder SET opened_by = -id WHERE opened_by IS NULL")
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.alter_column('opened_by', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_reminder_patient_kind_anchor', type_='unique')
        batch_op.create_unique_constraint('uq_reminder_patient_kind_opener',
                                          ['patient_id', 'kind', 'opened_by'])
    op.create_index('ix_reminder_open_due_covering', 'reminder', [*OLD_COVERING, 'held_since', 'opened_by'],
                    unique=False, sqlite_where=sa.text('closed = 0'),
                    postgresql_where=sa.text('closed = false'))
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('derived_with', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_patient_derived_with'), ['derived_with'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_derived_with'))
        batch_op.drop_column('derived_with')
    op.drop_index('ix_reminder_open_due_covering', table_name='reminder')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reminder_patient_kind_opener', type_='unique')
        batch_op.create_unique_constraint('uq_reminder_patient_kind_anchor',
                                          ['patient_id', 'kind', 'anchor_on'])
        batch_op.drop_column('held_since')
        batch_op.drop_column('closed_by')
        batch_op.drop_column('opened_by')
    op.create_index('ix_reminder_open_due_covering', 'reminder', OLD_COVERING, unique=False,
                    sqlite_where=sa.text('closed = 0'), postgresql_where=sa.text('closed = false'))
