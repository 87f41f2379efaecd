"""sessions: a session per sign-in that both tokens belong to, and a record of every sign-in
attempt (the audit trail, and what throttling counts); they replace the per-token revocations and
the login failures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

END_REASONS = "'logout','password_changed','deactivated','memberships_removed','refresh_reused'"
OUTCOMES = "'ok','failed','throttled'"
REASONS = ("'password_changed','unknown_user','wrong_password','wrong_current_password','inactive',"
           "'account_delay','address_ceiling'")


def upgrade():
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('refresh_jti', sa.String(length=64), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.CheckConstraint(f"end_reason IS NULL OR end_reason IN ({END_REASONS})", name=op.f('ck_auth_session_end_reason')),
    sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name=op.f('ck_auth_session_ended')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_auth_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index('ix_auth_session_user_id', ['user_id'], unique=False)

    op.create_table('sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f('ck_sign_in_outcome')),
    sa.CheckConstraint(f"reason IS NULL OR reason IN ({REASONS})", name=op.f('ck_sign_in_reason')),
    sa.ForeignKeyConstraint(['session_id'], ['auth_session.id'], name=op.f('fk_sign_in_session_id_auth_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sign_in_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in'))
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_username_client_address_occurred_at', ['username', 'client_address', 'occurred_at'], unique=False)
        batch_op.create_index('ix_sign_in_client_address_occurred_at', ['client_address', 'occurred_at'], unique=False)
        batch_op.create_index('ix_sign_in_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_sign_in_occurred_at', ['occurred_at'], unique=False)

    # Tokens issued before carry no session and are refused from now on: everyone signs in again.
    with op.batch_alter_table('revoked_token', schema=None) as batch_op:
        batch_op.drop_index('ix_revoked_token_expires_at')
    op.drop_table('revoked_token')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_key_failed_at')
    op.drop_table('login_failure')


def downgrade():
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_key_failed_at', ['key', 'failed_at'], unique=False)

    op.create_table('revoked_token',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('token_type', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_token'))
    )
    with op.batch_alter_table('revoked_token', schema=None) as batch_op:
        batch_op.create_index('ix_revoked_token_expires_at', ['expires_at'], unique=False)

    # Tokens issued with sessions outlive them on the old schema: ending the sessions cannot be
    # carried back, so the downgrade leaves every old token valid until it expires.
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_occurred_at')
        batch_op.drop_index('ix_sign_in_user_id_occurred_at')
        batch_op.drop_index('ix_sign_in_client_address_occurred_at')
        batch_op.drop_index('ix_sign_in_username_client_address_occurred_at')
    op.drop_table('sign_in')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_session_user_id')
    op.drop_table('auth_session')
