"""trigram indexes for accent-insensitive search (PostgreSQL's pg_trgm; SQLite searches by scan)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 11:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_assignment_search_key_trgm": "assignment",
    "ix_action_search_key_trgm": "action",
    "ix_organization_search_key_trgm": "organization",
    "ix_user_account_search_key_trgm": "user_account",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # LIKE '%…%' on the folded search keys uses these (the keys are lower-case ASCII, see tracker.domain.text.fold).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_key gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
