"""user sessions: browser sessions kept on the server, revocable

Revision ID: 82f498538a24
Revises: 5a1d2c7e9b40
Create Date: 2026-12-06 10:00:00

The session cookie now carries only a random session id; this table holds its SHA-256, the user,
when the session started and was last used, and when and why it was revoked (logout, password
change or reset, an administrator, the idle timeout or the maximum lifetime). Sessions opened
before this revision carry no id and end: their users log in again.
"""

import sqlalchemy as sa
from alembic import op

revision = "82f498538a24"
down_revision = "5a1d2c7e9b40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
