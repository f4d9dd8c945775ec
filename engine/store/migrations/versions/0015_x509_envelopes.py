"""x509 envelopes: signed messages remember their signature format and the signer's certificates; evidences
stated by a counterpart keep its certificates and are unique per case

Revision ID: 0015_x509_envelopes
Revises: 0014_pki
Create Date: 2026-12-04 11:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0015_x509_envelopes'
down_revision = '0014_pki'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows stored before keep algorithm NULL: the first format (Ed25519), verified with the key registry.
    with op.batch_alter_table('signed_message') as batch_op:
        batch_op.add_column(sa.Column('algorithm', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('certificates', sa.JSON(none_as_null=True), nullable=True))
        batch_op.alter_column('signature', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=1024), existing_nullable=False)
    with op.batch_alter_table('delivery_evidence') as batch_op:
        batch_op.add_column(sa.Column('certificates', sa.JSON(none_as_null=True), nullable=True))
        batch_op.drop_constraint('uq_delivery_evidence_event', type_='unique')
        batch_op.create_unique_constraint('uq_delivery_evidence_case_event',
                                          ['case_id', 'message_id', 'kind', 'issuer_code'])


def downgrade() -> None:
    with op.batch_alter_table('delivery_evidence') as batch_op:
        batch_op.drop_constraint('uq_delivery_evidence_case_event', type_='unique')
        batch_op.create_unique_constraint('uq_delivery_evidence_event', ['message_id', 'kind', 'issuer_code'])
        batch_op.drop_column('certificates')
    with op.batch_alter_table('signed_message') as batch_op:
        batch_op.alter_column('signature', existing_type=sqlmodel.sql.sqltypes.AutoString(length=1024),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)
        batch_op.drop_column('certificates')
        batch_op.drop_column('algorithm')
