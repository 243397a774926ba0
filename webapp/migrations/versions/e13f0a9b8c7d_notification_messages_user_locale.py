"""notifications.message (msgid + parameters, rendered in the reader's language); users.locale

Revision ID: e13f0a9b8c7d
Revises: d0c5a7e11b22
Create Date: 2026-12-04 23:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e13f0a9b8c7d'
down_revision = 'd0c5a7e11b22'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.JSON(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('message')
