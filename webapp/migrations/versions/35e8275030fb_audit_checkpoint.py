"""audit checkpoint: the chain's head kept apart from the events; append-only triggers on SQLite

Revision ID: 35e8275030fb
Revises: 82f498538a24
Create Date: 2026-12-06 11:00:00

`audit_checkpoint` holds one row (head seq, head hash, number of events, time) that every append
moves forward in the same transaction (services/audit.py), so `traceflow audit verify` finds events
cut off the end of the trail. It starts at the trail's current head. Triggers refuse deleting the
row or moving it backwards, on both databases; on SQLite, triggers now also refuse UPDATE and
DELETE of audit_events, as the PostgreSQL trigger of b87ed86b3443 does.

A later migration that rebuilds audit_events or audit_checkpoint on SQLite (batch "move and copy")
drops their triggers and must create them again.
"""

import sqlalchemy as sa
from alembic import op

revision = "35e8275030fb"
down_revision = "82f498538a24"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

SQLITE_TRIGGERS = {
    "audit_events_no_update": "BEFORE UPDATE ON audit_events BEGIN "
    "SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "audit_events_no_delete": "BEFORE DELETE ON audit_events BEGIN "
    "SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
    "audit_checkpoint_forward_only": "BEFORE UPDATE ON audit_checkpoint "
    "WHEN NEW.head_seq < OLD.head_seq OR NEW.events < OLD.events OR NEW.id <> OLD.id BEGIN "
    "SELECT RAISE(ABORT, 'audit_checkpoint only moves forward: UPDATE refused'); END",
    "audit_checkpoint_no_delete": "BEFORE DELETE ON audit_checkpoint BEGIN "
    "SELECT RAISE(ABORT, 'audit_checkpoint only moves forward: DELETE refused'); END",
}

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_checkpoint_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.head_seq < OLD.head_seq OR NEW.events < OLD.events OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'audit_checkpoint only moves forward: % refused', TG_OP;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
POSTGRES_TRIGGER = """
CREATE TRIGGER audit_checkpoint_forward_only BEFORE UPDATE OR DELETE ON audit_checkpoint
FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_forward_only();
"""


def upgrade():
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_checkpoint_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    head = bind.execute(sa.text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
    count = bind.execute(sa.text("SELECT COUNT(*) FROM audit_events")).scalar()
    checkpoint = sa.table(
        "audit_checkpoint",
        sa.column("id", sa.Integer),
        sa.column("head_seq", sa.Integer),
        sa.column("head_hash", sa.String),
        sa.column("events", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    from webapp.models._types import utcnow

    bind.execute(
        checkpoint.insert().values(
            id=1,
            head_seq=head.seq if head else 0,
            head_hash=head.hash if head else GENESIS,
            events=count,
            at=utcnow(),
        )
    )
    if bind.dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_forward_only ON audit_checkpoint")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoint_forward_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_checkpoint")
