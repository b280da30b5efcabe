"""store analytics: per-minute zone and counting-line aggregates, hourly heatmaps, counting
lines per camera; the value of goods at review and each store's currency (issue 19)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _place_columns(table: str) -> list[SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f(f"fk_{table}_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f(f"fk_{table}_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("lines", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("stores") as batch:
        batch.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="USD")
        )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("goods_value", sa.Numeric(14, 2), nullable=True))
        batch.add_column(sa.Column("goods_recovered", sa.Boolean(), nullable=True))
    op.create_table(
        "zone_minutes",
        *_place_columns("zone_minutes"),
        sa.Column("zone", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("occupancy_sum", sa.Double(), nullable=False),
        sa.Column("occupancy_max", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("exits", sa.Integer(), nullable=False),
        sa.Column("dwell_sum_s", sa.Double(), nullable=False),
        sa.Column("dwell_hist", sa.JSON(), nullable=False),
        sa.UniqueConstraint("camera_id", "zone", "minute", name=op.f("uq_zone_minutes_camera_id")),
    )
    op.create_index("ix_zone_minutes_store_minute", "zone_minutes", ["store_id", "minute"])
    op.create_index("ix_zone_minutes_minute", "zone_minutes", ["minute"])
    op.create_table(
        "line_minutes",
        *_place_columns("line_minutes"),
        sa.Column("line", sa.String(length=60), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.UniqueConstraint("camera_id", "line", "minute", name=op.f("uq_line_minutes_camera_id")),
    )
    op.create_index("ix_line_minutes_store_minute", "line_minutes", ["store_id", "minute"])
    op.create_index("ix_line_minutes_minute", "line_minutes", ["minute"])
    op.create_table(
        "heatmap_hours",
        *_place_columns("heatmap_hours"),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cols", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.UniqueConstraint("camera_id", "hour", name=op.f("uq_heatmap_hours_camera_id")),
    )
    op.create_index("ix_heatmap_hours_hour", "heatmap_hours", ["hour"])


def downgrade() -> None:
    op.drop_table("heatmap_hours")
    op.drop_table("line_minutes")
    op.drop_table("zone_minutes")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("goods_recovered")
        batch.drop_column("goods_value")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("currency")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("lines")
