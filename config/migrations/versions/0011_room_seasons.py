"""Room seasons: the round's settings on the season, associations' applications, activities and ranked weekly wishes.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


import infra.database

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('room_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('non_profit', sa.Boolean(), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('withdrawn_at', infra.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', infra.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', infra.database.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['association.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['season_id'], ['season.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('season_id', 'association_id', name='uq_room_application_association')
    )
    with op.batch_alter_table('room_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_application_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_application_season_id'), ['season_id'], unique=False)

    op.create_table('room_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('age_band', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('under_20', sa.Integer(), nullable=False),
    sa.Column('responsible_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('responsible_phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['room_application.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('room_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_activity_application_id'), ['application_id'], unique=False)

    op.create_table('room_wish',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('min_seats', sa.Integer(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=False),
    sa.Column('windows', sa.JSON(), nullable=False),
    sa.Column('renews_wish_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('slots', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('adjusted_by', sa.Integer(), nullable=True),
    sa.Column('adjust_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('confirm_by', infra.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('series_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', infra.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', infra.database.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['room_activity.id'], ),
    sa.ForeignKeyConstraint(['adjusted_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['application_id'], ['room_application.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ),
    sa.ForeignKeyConstraint(['renews_wish_id'], ['room_wish.id'], ),
    sa.ForeignKeyConstraint(['room_id'], ['resource.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('room_wish', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_wish_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('season', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rooms', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('hours_cap', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('applications_open', infra.database.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('applications_close', infra.database.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('renewal_share', sa.Float(), server_default='0.5', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('season', schema=None) as batch_op:
        batch_op.drop_column('renewal_share')
        batch_op.drop_column('applications_close')
        batch_op.drop_column('applications_open')
        batch_op.drop_column('hours_cap')
        batch_op.drop_column('holidays')
        batch_op.drop_column('rooms')

    with op.batch_alter_table('room_wish', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_wish_application_id'))

    op.drop_table('room_wish')
    with op.batch_alter_table('room_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_activity_application_id'))

    op.drop_table('room_activity')
    with op.batch_alter_table('room_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_application_season_id'))
        batch_op.drop_index(batch_op.f('ix_room_application_association_id'))

    op.drop_table('room_application')
