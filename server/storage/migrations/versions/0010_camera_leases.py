"""camera leases: the workers that run cameras, and each camera's lease (issue 17)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_workers",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_workers")),
    )
    op.create_index(
        op.f("ix_cluster_workers_heartbeat_at"), "cluster_workers", ["heartbeat_at"], unique=False
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("worker_name", sa.String(length=128), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_leases_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_leases")),
    )
    op.create_index(
        op.f("ix_camera_leases_worker_name"), "camera_leases", ["worker_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_leases_worker_name"), table_name="camera_leases")
    op.drop_table("camera_leases")
    op.drop_index(op.f("ix_cluster_workers_heartbeat_at"), table_name="cluster_workers")
    op.drop_table("cluster_workers")
