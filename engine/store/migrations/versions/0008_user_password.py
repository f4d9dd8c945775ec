"""web: password hash on users (Argon2id) for the web UI's login

Revision ID: 0008_user_password
Revises: 0007_federation
Create Date: 2026-11-23 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0008_user_password'
down_revision = '0007_federation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('password_hash')
