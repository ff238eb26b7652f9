"""Coding the open answers: themes (a codebook per free-text question of a survey), the themes ticked per comment,
and each coder's review of a comment (saved, quotable)."""
import sqlalchemy as sa
from alembic import op

revision = 'a15c0d1e7b2f'
down_revision = 'a7c3e91d2b40'


def upgrade():
    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('survey_id', 'question', 'name', name='uq_theme_survey_question_name')
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_survey_id'), ['survey_id'], unique=False)

    op.create_table('comment_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=100), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.Column('coder', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'question', 'theme_id', 'coder', name='uq_comment_code')
    )
    with op.batch_alter_table('comment_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_codes_response_id'), ['response_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_codes_theme_id'), ['theme_id'], unique=False)

    op.create_table('comment_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=100), nullable=False),
    sa.Column('coder', sa.String(length=10), nullable=False),
    sa.Column('quotable', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'question', 'coder', name='uq_comment_review')
    )
    with op.batch_alter_table('comment_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_reviews_response_id'), ['response_id'], unique=False)


def downgrade():
    with op.batch_alter_table('comment_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_reviews_response_id'))
    op.drop_table('comment_reviews')
    with op.batch_alter_table('comment_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_codes_theme_id'))
        batch_op.drop_index(batch_op.f('ix_comment_codes_response_id'))
    op.drop_table('comment_codes')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_survey_id'))
    op.drop_table('themes')
