"""A round's own invitation and reminder texts (round_mail_texts) and its reminder dates (round_reminders)"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e91d2b40'
down_revision = '3424b8936fd8'


def upgrade():
    op.create_table('round_mail_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'kind', 'language')
    )
    with op.batch_alter_table('round_mail_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_mail_texts_round_id'), ['round_id'], unique=False)

    op.create_table('round_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('send_on', sa.Date(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'send_on')
    )
    with op.batch_alter_table('round_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_reminders_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('round_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_reminders_round_id'))
    op.drop_table('round_reminders')
    with op.batch_alter_table('round_mail_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_mail_texts_round_id'))
    op.drop_table('round_mail_texts')
