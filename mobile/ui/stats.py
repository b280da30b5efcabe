"""Stats: alerts per day and per hour, per camera, the share reviewed and confirmed, and
the time to review, over a chosen range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import flet as ft
import flet_charts as fch

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.ui import common, ids
from shared.schemas.stats import Bucket, StatsPublic

RANGES = {"7d": timedelta(days=7), "30d": timedelta(days=30), "1d": timedelta(days=1)}


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def bar_chart(buckets: list[Bucket], label: Callable[[datetime], str]) -> ft.Control:
    if not buckets:
        return common.empty("No alerts in this range.")
    top = max(b.count for b in buckets)
    step = max(1, -(-len(buckets) // 4))  # about four labels
    chart: ft.Control = fch.BarChart(
        groups=[
            fch.BarChartGroup(x=i, rods=[fch.BarChartRod(from_y=0, to_y=b.count, width=8)])
            for i, b in enumerate(buckets)
        ],
        bottom_axis=fch.ChartAxis(
            labels=[
                fch.ChartAxisLabel(value=i, label=ft.Text(label(b.start), size=10))
                for i, b in enumerate(buckets)
                if i % step == 0
            ]
        ),
        left_axis=fch.ChartAxis(label_size=28),
        max_y=max(1, top) * 1.1,
        height=180,
    )
    return chart


class StatsScreen:
    def __init__(self, account: Account, camera_names: Callable[[], dict[int, str]]) -> None:
        self._account, self._camera_names = account, camera_names
        ranges = {"1d": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
        self.range = common.choice("Range", "7d", ranges, self._range_changed, width=200)
        self.body = ft.Column([common.loading()])
        self.stats: StatsPublic | None = None
        self.control = ft.Column(
            [ids.tagged(ids.STATS_RANGE, self.range), self.body],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    async def refresh(self) -> None:
        assert self._account.client is not None
        until = datetime.now(UTC)
        since = until - RANGES.get(self.range.value or "7d", RANGES["7d"])
        try:
            self.stats = await self._account.client.stats(since=since, until=until)
        except ApiError as exc:
            self.body.controls = [common.failed(exc, self.refresh)]
        else:
            self.body.controls = self._draw(self.stats)
        common.redraw(self.control)

    def _draw(self, stats: StatsPublic) -> list[ft.Control]:
        names = self._camera_names()
        totals = (
            f"{stats.alerts} alerts · {share(stats.share_reviewed)} reviewed · "
            f"{share(stats.share_confirmed)} of those confirmed · "
            f"median time to review {duration(stats.median_time_to_review_s)}"
        )
        per_camera: list[ft.Control] = [
            ft.Text(
                f"{names.get(c.camera_id, f'Camera {c.camera_id}')}: {c.alerts} alerts, "
                f"{c.reviewed} reviewed, {c.confirmed} confirmed"
            )
            for c in sorted(stats.per_camera, key=lambda c: -c.alerts)
        ]
        return [
            ids.tagged(ids.STATS_TOTALS, ft.Text(totals)),
            ft.Text("Per day", weight=ft.FontWeight.BOLD),
            bar_chart(stats.per_day, lambda t: t.strftime("%d %b")),
            ft.Text("Per hour", weight=ft.FontWeight.BOLD),
            bar_chart(stats.per_hour[-48:], lambda t: t.strftime("%H:00")),
            ft.Text("Per camera", weight=ft.FontWeight.BOLD),
            *(per_camera or [common.empty("No alerts in this range.")]),
        ]

    async def _range_changed(self, _: ft.Event[ft.Dropdown]) -> None:
        await self.refresh()
