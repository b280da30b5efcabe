"""clip jobs: evidence clips made by a worker, and each alert's clip status

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("clip_status", sa.String(length=16), nullable=True))
    op.create_table(
        "clip_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("clip_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clip_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_clip_jobs_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_clip_jobs_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_jobs")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_clip_jobs_alert_id")),
    )
    with op.batch_alter_table("clip_jobs") as batch:
        batch.create_index(batch.f("ix_clip_jobs_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("clip_jobs")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("clip_status")
