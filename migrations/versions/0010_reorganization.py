"""reorganisations (sáp nhập, chia tách, đổi tên, điều chuyển, giải thể): dated versions of names and
parents, lineage, transfers of work, the unit each assignment was given to, official unit codes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tracker.models.base import UtcDateTime


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reorganization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('decision', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UtcDateTime(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.CheckConstraint("kind IN ('merge','split','rename','move','close','create')", name=op.f('ck_reorganization_kind')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_reorganization_recorded_by_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reorganization'))
    )
    op.create_index('ix_reorganization_effective_on', 'reorganization', ['effective_on'], unique=False)
    op.create_table('organization_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('short_name', sa.String(length=120), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('reorganization_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from', name=op.f('ck_organization_version_valid_range')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> organization_id', name=op.f('ck_organization_version_not_own_parent')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_organization_version_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['organization.id'], name=op.f('fk_organization_version_parent_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reorganization_id'], ['reorganization.id'], name=op.f('fk_organization_version_reorganization_id_reorganization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_version'))
    )
    op.create_index('ix_organization_version_organization_id_valid_from', 'organization_version', ['organization_id', 'valid_from'], unique=False)
    op.create_index('ix_organization_version_parent_id', 'organization_version', ['parent_id'], unique=False)
    op.create_table('organization_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reorganization_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.CheckConstraint('predecessor_id <> successor_id', name=op.f('ck_organization_link_not_own_successor')),
    sa.ForeignKeyConstraint(['predecessor_id'], ['organization.id'], name=op.f('fk_organization_link_predecessor_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reorganization_id'], ['reorganization.id'], name=op.f('fk_organization_link_reorganization_id_reorganization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['successor_id'], ['organization.id'], name=op.f('fk_organization_link_successor_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_link')),
    sa.UniqueConstraint('predecessor_id', 'successor_id', name=op.f('uq_organization_link_predecessor_id_successor_id'))
    )
    op.create_index('ix_organization_link_successor_id', 'organization_link', ['successor_id'], unique=False)
    op.create_table('assignment_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('reorganization_id', sa.Integer(), nullable=False),
    sa.Column('from_organization_id', sa.Integer(), nullable=False),
    sa.Column('to_organization_id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_assignment_transfer_assignment_id_assignment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_organization_id'], ['organization.id'], name=op.f('fk_assignment_transfer_from_organization_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reorganization_id'], ['reorganization.id'], name=op.f('fk_assignment_transfer_reorganization_id_reorganization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_organization_id'], ['organization.id'], name=op.f('fk_assignment_transfer_to_organization_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_transfer'))
    )
    op.create_index('ix_assignment_transfer_assignment_id_effective_on', 'assignment_transfer', ['assignment_id', 'effective_on'], unique=False)
    op.create_index('ix_assignment_transfer_effective_on', 'assignment_transfer', ['effective_on'], unique=False)

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_code', sa.String(length=16), nullable=True))

    # Every assignment was given to the unit that holds it (no reorganisation has moved any yet).
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_organization_id', sa.Integer(), nullable=True))
    op.execute("UPDATE assignment SET origin_organization_id = organization_id")
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.alter_column('origin_organization_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_assignment_action_id_organization_id_cycle', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_assignment_action_id_origin_organization_id_cycle'), ['action_id', 'origin_organization_id', 'cycle'])
        batch_op.create_foreign_key(batch_op.f('fk_assignment_origin_organization_id_organization'), 'organization', ['origin_organization_id'], ['id'], ondelete='RESTRICT')

    op.create_index('ix_assignment_event_kind_effective_on', 'assignment_event', ['kind', 'effective_on'], unique=False)

    # Each organisation's one version so far: its name and parent over its whole life.
    op.execute(
        "INSERT INTO organization_version (organization_id, valid_from, valid_to, name, short_name, parent_id) "
        "SELECT id, valid_from, valid_to, name, short_name, parent_id FROM organization ORDER BY id"
    )


def downgrade():
    op.drop_index('ix_assignment_event_kind_effective_on', table_name='assignment_event')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assignment_origin_organization_id_organization'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_assignment_action_id_origin_organization_id_cycle'), type_='unique')
        batch_op.create_unique_constraint('uq_assignment_action_id_organization_id_cycle', ['action_id', 'organization_id', 'cycle'])
        batch_op.drop_column('origin_organization_id')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('admin_code')
    op.drop_index('ix_assignment_transfer_effective_on', table_name='assignment_transfer')
    op.drop_index('ix_assignment_transfer_assignment_id_effective_on', table_name='assignment_transfer')
    op.drop_table('assignment_transfer')
    op.drop_index('ix_organization_link_successor_id', table_name='organization_link')
    op.drop_table('organization_link')
    op.drop_index('ix_organization_version_parent_id', table_name='organization_version')
    op.drop_index('ix_organization_version_organization_id_valid_from', table_name='organization_version')
    op.drop_table('organization_version')
    op.drop_index('ix_reorganization_effective_on', table_name='reorganization')
    op.drop_table('reorganization')
