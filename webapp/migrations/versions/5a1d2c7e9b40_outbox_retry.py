"""outbox retry: how often delivery of an outbox row failed and when it is tried next

Revision ID: 5a1d2c7e9b40
Revises: d08589835c4e
Create Date: 2026-12-04 20:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5a1d2c7e9b40"
down_revision = "d08589835c4e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_messages_next_attempt_at", ["next_attempt_at"])


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_next_attempt_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
