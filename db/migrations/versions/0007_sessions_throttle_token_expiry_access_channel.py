"""server-side web sessions (holding the next page's message and refused form); sign-in failures
(the throttle); API tokens that expire and say when they were last used; the access log's channel
and client address (issue 16)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:20:00

API tokens issued before this revision had no expiry: they are given 90 days from the upgrade
(the default ``api_token_days``), so an integration keeps working while someone issues it a new
one (``journey user token NAME``). Access-log rows from before it have an empty channel and
client: nobody recorded them.
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LEGACY_TOKEN_DAYS = 90


def upgrade() -> None:
    op.create_table('sign_in_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failure_at'), ['at'], unique=False)
        batch_op.create_index('ix_sign_in_failure_client_at', ['client', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_failure_name_at', ['name', 'at'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_why', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('flash', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('kept', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), server_default='',
                                      nullable=False))
        batch_op.create_index('ix_access_log_user_at', ['user', 'at'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('token_last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    users = sa.table('app_user', sa.column('api_token_hash'), sa.column('token_expires_at'))
    op.execute(users.update().where(users.c.api_token_hash.is_not(None))
               .values(token_expires_at=datetime.now(UTC) + timedelta(days=LEGACY_TOKEN_DAYS)))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('token_last_used_at')
        batch_op.drop_column('token_expires_at')

    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_user_at')
        batch_op.drop_column('client')
        batch_op.drop_column('channel')

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
    op.drop_table('web_session')

    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failure_name_at')
        batch_op.drop_index('ix_sign_in_failure_client_at')
        batch_op.drop_index(batch_op.f('ix_sign_in_failure_at'))
    op.drop_table('sign_in_failure')
