"""message.document_pending: an outbound message whose PDF the dispatcher renders and signs before delivering it
(the web answers the click at once; the document is made off the request path)

Revision ID: 0019_message_document_pending
Revises: 0018_erasure
Create Date: 2026-12-04 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0019_message_document_pending'
down_revision = '0018_erasure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_pending', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('document_pending')
