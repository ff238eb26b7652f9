"""Files partners upload to answer image, photo and file questions (their bytes live in the store)."""
import sqlalchemy as sa
from alembic import op

revision = 'a1f3c9e2b7d4'
down_revision = 'b7d1e2f3a4c5'


def upgrade():
    op.create_table('uploaded_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=100), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'question', name='uq_uploaded_file_response_question'),
    sa.UniqueConstraint('storage_key')
    )


def downgrade():
    op.drop_table('uploaded_files')
