"""federation: key revocation, earlier envelope hashes, outbox claims, attachments per case

Revision ID: 0012_federation_integrity
Revises: 0011_user_sessions_revoked
Create Date: 2026-12-01 22:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.store.types


revision = '0012_federation_integrity'
down_revision = '0011_user_sessions_revoked'
branch_labels = None
depends_on = None


def _time(name: str) -> sa.Column:
    return sa.Column(name, engine.store.types.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table('authority_key') as batch_op:
        batch_op.add_column(_time('revoked_at'))
        batch_op.add_column(_time('compromised_at'))
    with op.batch_alter_table('signed_message') as batch_op:
        batch_op.add_column(sa.Column('earlier_sha256', sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table('message') as batch_op:
        batch_op.add_column(_time('claimed_until'))
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    # One row per case and file (it was one per authority and file: a second case's upload was silently dropped).
    with op.batch_alter_table('attachment') as batch_op:
        batch_op.drop_constraint('uq_attachment_authority_sha256', type_='unique')
        batch_op.create_unique_constraint('uq_attachment_case_sha256', ['case_id', 'sha256'])


def downgrade() -> None:
    with op.batch_alter_table('attachment') as batch_op:
        batch_op.drop_constraint('uq_attachment_case_sha256', type_='unique')
        batch_op.create_unique_constraint('uq_attachment_authority_sha256', ['authority_code', 'sha256'])
    with op.batch_alter_table('message') as batch_op:
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_until')
    with op.batch_alter_table('signed_message') as batch_op:
        batch_op.drop_column('earlier_sha256')
    with op.batch_alter_table('authority_key') as batch_op:
        batch_op.drop_column('compromised_at')
        batch_op.drop_column('revoked_at')
