"""Key findings as analysts edited them, per round and language (key_findings_edits)"""
import sqlalchemy as sa
from alembic import op

revision = 'b7d1e2f3a4c5'
down_revision = 'a15c0d1e7b2f'


def upgrade():
    op.create_table(
        'key_findings_edits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('compare_round_id', sa.Integer(), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('edited_by', sa.Integer(), nullable=True),
        sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['edited_by'], ['users.id'], ),
        sa.ForeignKeyConstraint(['compare_round_id'], ['rounds.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'language', 'compare_round_id'),
    )
    with op.batch_alter_table('key_findings_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_findings_edits_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('key_findings_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_findings_edits_round_id'))
    op.drop_table('key_findings_edits')
