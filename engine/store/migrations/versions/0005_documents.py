"""documents: rendered PDF/A documents of a case (bytes in the database)

Revision ID: 0005_documents
Revises: 0003_deadlines
Create Date: 2026-11-23 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.store.types


revision = '0005_documents'
down_revision = '0003_deadlines'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('secondary_language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'sha256', name='uq_document_case_sha256')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_message_id'))
        batch_op.drop_index(batch_op.f('ix_document_case_id'))
    op.drop_table('document')
