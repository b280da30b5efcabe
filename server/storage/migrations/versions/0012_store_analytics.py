"""store analytics: per-minute and per-hour zone and counting-line aggregates, hourly heatmaps,
counting lines per camera; the value of goods at review and each store's currency (issue 19)

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
    for table in ("zone_minutes", "zone_hours"):
        op.create_table(
            table,
            *_place_columns(table),
            sa.Column("zone", sa.String(length=60), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=True),
            sa.Column("start", sa.DateTime(timezone=True), nullable=False),
            sa.Column("seconds", sa.Double(), nullable=False),
            sa.Column("occupancy_sum", sa.Double(), nullable=False),
            sa.Column("occupancy_max", sa.Integer(), nullable=False),
            sa.Column("entries", sa.Integer(), nullable=False),
            sa.Column("exits", sa.Integer(), nullable=False),
            sa.Column("dwell_sum_s", sa.Double(), nullable=False),
            sa.Column("dwell_hist", sa.JSON(), nullable=False),
            sa.UniqueConstraint("camera_id", "zone", "start", name=op.f(f"uq_{table}_camera_id")),
        )
        _time_indexes(table)
    for table in ("line_minutes", "line_hours"):
        op.create_table(
            table,
            *_place_columns(table),
            sa.Column("line", sa.String(length=60), nullable=False),
            sa.Column("start", sa.DateTime(timezone=True), nullable=False),
            sa.Column("entered", sa.Integer(), nullable=False),
            sa.Column("left", sa.Integer(), nullable=False),
            sa.UniqueConstraint("camera_id", "line", "start", name=op.f(f"uq_{table}_camera_id")),
        )
        _time_indexes(table)
    op.create_table(
        "heatmap_hours",
        *_place_columns("heatmap_hours"),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cols", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.UniqueConstraint("camera_id", "start", name=op.f("uq_heatmap_hours_camera_id")),
    )
    op.create_index("ix_heatmap_hours_start", "heatmap_hours", ["start"])


def _time_indexes(table: str) -> None:
    op.create_index(f"ix_{table}_store_start", table, ["store_id", "start"])
    op.create_index(f"ix_{table}_start", table, ["start"])


def downgrade() -> None:
    for table in ("heatmap_hours", "line_hours", "line_minutes", "zone_hours", "zone_minutes"):
        op.drop_table(table)
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("goods_recovered")
        batch.drop_column("goods_value")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("currency")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("lines")
