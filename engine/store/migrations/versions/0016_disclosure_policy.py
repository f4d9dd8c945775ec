"""disclosure policy: the smallest published group of each authority's statistics, append-only (audited)

Revision ID: 0016_disclosure_policy
Revises: 0015_x509_envelopes
Create Date: 2026-12-04 11:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.store.types


revision = '0016_disclosure_policy'
down_revision = '0015_x509_envelopes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('min_group', sa.Integer(), nullable=False),
    sa.Column('previous', sa.Integer(), nullable=True),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('set_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['authority.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_disclosure_policy_authority', 'disclosure_policy', ['authority_code', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_disclosure_policy_authority', table_name='disclosure_policy')
    op.drop_table('disclosure_policy')
