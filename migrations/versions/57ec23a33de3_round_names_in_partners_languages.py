"""Round names in partners' languages (rounds.translated_names)"""
import sqlalchemy as sa
from alembic import op

revision = '57ec23a33de3'
down_revision = '6c3f72a4e16f'


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translated_names', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('translated_names')
