"""published reports keep a Word document too (periodic reports; NULL for earlier snapshots and summaries)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch rebuild): the append-only triggers stay in place, and existing rows
    # keep NULL, served as 404 snapshot.format_unavailable; they are never updated.
    op.add_column('report_snapshot', sa.Column('docx_body', sa.LargeBinary(), nullable=True))
    op.add_column('report_snapshot', sa.Column('docx_sha256', sa.String(length=64), nullable=True))


def downgrade():
    # Native DROP COLUMN (SQLite 3.35+ as well): a batch rebuild would lose SQLite's append-only triggers.
    op.execute("ALTER TABLE report_snapshot DROP COLUMN docx_sha256")
    op.execute("ALTER TABLE report_snapshot DROP COLUMN docx_body")
