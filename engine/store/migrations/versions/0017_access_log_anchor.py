"""access log anchored in the cases: each case counts the reads of it that its authority's access log records,
and each new audit event seals that count

Revision ID: 0017_access_log_anchor
Revises: 0016_disclosure_policy
Create Date: 2026-12-04 11:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017_access_log_anchor'
down_revision = '0016_disclosure_policy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_reads', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_reads', sa.Integer(), nullable=True))
    # Existing logs: the count starts at what the log holds now (a log truncated before this revision cannot be
    # told apart; from here on, it can).
    op.execute('UPDATE "case" SET access_reads = (SELECT count(*) FROM access_log '
               'WHERE access_log.case_id = "case".id)')


def downgrade() -> None:
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('access_reads')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('access_reads')
