"""inbox at scale: sort key, process and business key on task rows; partial indexes for open rows

Revision ID: 9b7e4f3a1c60
Revises: 35e8275030fb
Create Date: 2026-12-07 10:00:00

The inbox pages by keyset in (due_key, id) order, one index range per branch (a role's unclaimed
queue, a user's claimed tasks). `due_key` is due_at or 9999-12-31 (never NULL: SQLite and PostgreSQL
sort NULLs differently); `process_key` and `business_key` are copied from the instance so filters and
search need no join. The indexes cover open rows only: a million completed tasks cost them nothing.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from webapp.models._types import UTCDateTime

revision = "9b7e4f3a1c60"
down_revision = "35e8275030fb"
branch_labels = None
depends_on = None

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
OPEN_UNCLAIMED = "completed_at IS NULL AND assignee_id IS NULL"


def upgrade():
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("due_key", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("process_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("business_key", sa.String(40), nullable=True))
    tasks = sa.table(
        "human_tasks",
        sa.column("due_key", UTCDateTime()),
        sa.column("due_at", UTCDateTime()),
        sa.column("instance_id", sa.Integer),
        sa.column("process_key", sa.String),
        sa.column("business_key", sa.String),
    )
    instances = sa.table(
        "process_instances", sa.column("id", sa.Integer), sa.column("version_id", sa.Integer), sa.column("business_key")
    )
    versions = sa.table("process_versions", sa.column("id", sa.Integer), sa.column("key", sa.String))
    op.execute(
        tasks.update().values(
            due_key=sa.func.coalesce(tasks.c.due_at, sa.literal(NO_DUE_DATE, UTCDateTime())),
            business_key=sa.select(instances.c.business_key)
            .where(instances.c.id == tasks.c.instance_id)
            .scalar_subquery(),
            process_key=sa.select(versions.c.key)
            .where(versions.c.id == instances.c.version_id, instances.c.id == tasks.c.instance_id)
            .scalar_subquery(),
        )
    )
    with op.batch_alter_table("human_tasks") as batch:
        batch.alter_column("due_key", existing_type=UTCDateTime(), nullable=False)
        batch.alter_column("process_key", existing_type=sa.String(120), nullable=False, server_default="")
        batch.alter_column("business_key", existing_type=sa.String(40), nullable=False, server_default="")
    # (completed_at, candidate_role) served the old inbox; the partial indexes replace it, and the
    # reminder sweep (open rows with a due date) gets its own.
    op.drop_index("ix_human_tasks_open_role", "human_tasks")
    for name, columns, where in (
        ("ix_human_tasks_inbox_role", ["candidate_role", "due_key", "id", "assignee_id", "completed_at"], OPEN_UNCLAIMED),
        ("ix_human_tasks_open_business_key", ["business_key"], "completed_at IS NULL"),
        ("ix_human_tasks_open_due", ["due_at"], "completed_at IS NULL AND due_at IS NOT NULL"),
        ("ix_human_tasks_inbox_role_process", ["candidate_role", "process_key", "due_key", "id"], OPEN_UNCLAIMED),
        ("ix_human_tasks_inbox_assignee", ["assignee_id", "due_key", "id"], "completed_at IS NULL"),
    ):
        op.create_index(
            name, "human_tasks", columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )


def downgrade():
    for name in (
        "ix_human_tasks_inbox_assignee",
        "ix_human_tasks_open_due",
        "ix_human_tasks_open_business_key",
        "ix_human_tasks_inbox_role_process",
        "ix_human_tasks_inbox_role",
    ):
        op.drop_index(name, "human_tasks")
    op.create_index("ix_human_tasks_open_role", "human_tasks", ["completed_at", "candidate_role"])
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("business_key")
        batch.drop_column("process_key")
        batch.drop_column("due_key")
