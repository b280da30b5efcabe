"""shadow model: the alerts a candidate behaviour model would have raised beside the active one

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("zone", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("peak_score", sa.Double(), nullable=False),
        sa.Column("tracks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_shadow_alerts_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_alerts")),
    )
    op.create_index(
        "ix_shadow_alerts_model_camera",
        "shadow_alerts",
        ["model", "camera_id", "started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_shadow_alerts_model_camera", table_name="shadow_alerts")
    op.drop_table("shadow_alerts")
