"""web: when a user last logged out (browser sessions signed before then are void)

Revision ID: 0011_user_sessions_revoked
Revises: 0010_idempotency
Create Date: 2026-11-23 16:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.store.types


revision = '0011_user_sessions_revoked'
down_revision = '0010_idempotency'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('sessions_revoked_at', engine.store.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('sessions_revoked_at')
