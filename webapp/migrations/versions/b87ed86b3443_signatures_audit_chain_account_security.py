"""signatures, audit chain, account security

Revision ID: b87ed86b3443
Revises: 3c5585f5b84d
Create Date: 2026-11-22 02:04:14.195683

Adds electronic signatures, password history, lockout/expiry columns, token revocation, and the
hash chain on audit events (existing events are chained in id order). On PostgreSQL a trigger
refuses UPDATE and DELETE on audit_events.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b87ed86b3443'
down_revision = '3c5585f5b84d'
branch_labels = None
depends_on = None

IMMUTABLE_AUDIT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
IMMUTABLE_AUDIT_TRIGGER = """
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();
"""


def _chain_existing_events():
    """Give events written before this revision their place in the chain (id order)."""
    from webapp.models import AuditEvent
    from webapp.services.audit import GENESIS, event_hash
    bind = op.get_bind()
    table = AuditEvent.__table__
    previous = GENESIS
    rows = bind.execute(sa.select(*[c for c in table.c if c.name not in ("seq", "prev_hash", "hash")])
                        .order_by(table.c.id)).all()
    for seq, row in enumerate(rows, start=1):
        values = dict(row._mapping, prev_hash=previous)
        digest = event_hash(type("Event", (), values))
        bind.execute(table.update().where(table.c.id == row.id).values(seq=seq, prev_hash=previous, hash=digest))
        previous = digest


def upgrade():
    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_history_user_id'), ['user_id'], unique=False)

    op.create_table('signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=120), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('printed_name', sa.String(length=200), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meaning', sa.String(length=40), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatures_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_properties', sa.JSON(), nullable=True))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', nullable=False)
        batch_op.alter_column('prev_hash', nullable=False)
        batch_op.alter_column('hash', nullable=False)
        batch_op.create_unique_constraint('uq_audit_events_seq', ['seq'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE users SET password_changed_at = created_at WHERE password_changed_at IS NULL"))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(IMMUTABLE_AUDIT_FUNCTION)
        op.execute(IMMUTABLE_AUDIT_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_immutable()")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('locked_at')
        batch_op.drop_column('failed_logins')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_seq', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('signature_properties')

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatures_task_id'))
        batch_op.drop_index(batch_op.f('ix_signatures_instance_id'))

    op.drop_table('signatures')
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_history_user_id'))

    op.drop_table('password_history')
