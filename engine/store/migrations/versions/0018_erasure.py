"""erasure: audit events carry a format number (2: free texts kept beside the chain in audit_text, their salted
hash in the chain); files written outside the database are recorded in external_file

Existing events keep format 1 and verify as before; only new events use format 2.

Revision ID: 0018_erasure
Revises: 0017_access_log_anchor
Create Date: 2026-12-04 11:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.store.types


revision = '0018_erasure'
down_revision = '0017_access_log_anchor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.Integer(), server_default='1', nullable=False))
    op.create_table('audit_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('erased_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', 'key', name='uq_audit_text_event_key')
    )
    with op.batch_alter_table('audit_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_text_case_id'), ['case_id'], unique=False)
    op.create_table('external_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['authority.code'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('external_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_file_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_file_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_file_case_id'))
        batch_op.drop_index(batch_op.f('ix_external_file_authority_code'))
    op.drop_table('external_file')
    with op.batch_alter_table('audit_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_text_case_id'))
    op.drop_table('audit_text')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('format')
