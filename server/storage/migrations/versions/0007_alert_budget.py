"""alert budget: cameras' own alerts per day, finished tracks' peak scores, scored spans

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("alert_budget_per_day", sa.Double(), nullable=True))
    op.create_table(
        "track_peaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("peak", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_track_peaks_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_peaks")),
    )
    op.create_index(
        "ix_track_peaks_camera_last_seen", "track_peaks", ["camera_id", "last_seen"], unique=False
    )
    op.create_table(
        "scored_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_scored_spans_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scored_spans")),
    )
    op.create_index(
        "ix_scored_spans_camera_ended", "scored_spans", ["camera_id", "ended_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_scored_spans_camera_ended", table_name="scored_spans")
    op.drop_table("scored_spans")
    op.drop_index("ix_track_peaks_camera_last_seen", table_name="track_peaks")
    op.drop_table("track_peaks")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("alert_budget_per_day")
