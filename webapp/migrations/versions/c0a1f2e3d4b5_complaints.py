"""complaints: the complaint record and one row per regulator report (market, rule, deadline, reminders, submission)

Revision ID: c0a1f2e3d4b5
Revises: 9b7e4f3a1c60
Create Date: 2026-12-04 22:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "c0a1f2e3d4b5"
down_revision = "9b7e4f3a1c60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("business_key", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("received_by", sa.String(length=80), nullable=False),
        sa.Column("awareness_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_code", sa.String(length=40), nullable=False),
        sa.Column("material_code", sa.String(length=40), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("serial", sa.String(length=40), server_default="", nullable=False),
        sa.Column("udi", sa.String(length=120), server_default="", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("patient_involved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("device_available", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("attachment_ref", sa.String(length=200), server_default="", nullable=False),
        sa.Column("related_complaint", sa.String(length=40), server_default="", nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("failure_code", sa.String(length=30), server_default="", nullable=False),
        sa.Column("is_complaint", sa.Boolean(), nullable=True),
        sa.Column("reportable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("trend", sa.JSON(), nullable=False),
        sa.Column("investigation", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=80), server_default="", nullable=False),
        sa.Column("closure_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("business_key"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("complaints") as batch:
        batch.create_index("ix_complaints_awareness_at", ["awareness_at"])
        batch.create_index("ix_complaints_material_code", ["material_code"])
        batch.create_index("ix_complaints_lot_number", ["lot_number"])
        batch.create_index("ix_complaints_failure_code", ["failure_code"])
        batch.create_index("ix_complaints_status", ["status"])
    op.create_table(
        "complaint_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("market", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("report_form", sa.String(length=20), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_50_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_80_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_50_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_80_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=80), server_default="", nullable=False),
        sa.Column("report_number", sa.String(length=80), server_default="", nullable=False),
        sa.Column("report_date", sa.String(length=10), server_default="", nullable=False),
        sa.Column("late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("lateness_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "market", "rule", name="uq_complaint_reports_market_rule"),
    )
    with op.batch_alter_table("complaint_reports") as batch:
        batch.create_index("ix_complaint_reports_complaint_id", ["complaint_id"])
        batch.create_index("ix_complaint_reports_due_at", ["due_at"])


def downgrade():
    op.drop_table("complaint_reports")
    op.drop_table("complaints")
