"""observatory: observatories, who reports to them, and the statistical returns they accepted

Revision ID: 0013_observatory
Revises: 0012_federation_integrity
Create Date: 2026-12-01 22:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.store.types


revision = '0013_observatory'
down_revision = '0012_federation_integrity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('observatory',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('granularity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code'], ['authority.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('observatory_member',
    sa.Column('observatory_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('member_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_code'], ['authority.code'], ),
    sa.ForeignKeyConstraint(['observatory_code'], ['observatory.code'], ),
    sa.PrimaryKeyConstraint('observatory_code', 'member_code')
    )
    op.create_table('statistical_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observatory_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sender_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('received_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['observatory_code'], ['observatory.code'], ),
    sa.ForeignKeyConstraint(['sender_code'], ['authority.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('observatory_code', 'sender_code', 'period', name='uq_statistical_return_period')
    )
    with op.batch_alter_table('statistical_return') as batch_op:
        batch_op.create_index(batch_op.f('ix_statistical_return_observatory_code'), ['observatory_code'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('statistical_return') as batch_op:
        batch_op.drop_index(batch_op.f('ix_statistical_return_observatory_code'))
    op.drop_table('statistical_return')
    op.drop_table('observatory_member')
    op.drop_table('observatory')
