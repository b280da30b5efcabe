"""One alert: its snapshot, the clip to play, camera, zone, score, time and the people
involved; supervisors and admins acknowledge it and mark it reviewed with an outcome and a
note, viewers only read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft
import flet_video as ftv

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.ui import common, ids
from mobile.ui.alerts import title
from shared.schemas.alerts import (
    AlertOutcome,
    AlertPublic,
    AlertStatus,
    ClipStatus,
    MediaLinksPublic,
)

OUTCOME_WORDS = {
    AlertOutcome.confirmed_theft: "Confirmed theft",
    AlertOutcome.false_alarm: "False alarm",
    AlertOutcome.deterred: "Deterred",
    AlertOutcome.unclear: "Unclear",
}

CLIP_WORDS = {
    ClipStatus.queued: "The clip is being recorded (it ends a few seconds after the event)…",
    ClipStatus.running: "The clip is being written…",
    ClipStatus.failed: "The clip could not be made.",
}


class AlertDetail:
    def __init__(
        self,
        account: Account,
        alert: AlertPublic,
        camera_name: str,
        on_changed: Callable[[AlertPublic], Awaitable[None]],
        on_back: Callable[[], Awaitable[None]],
    ) -> None:
        self._account, self.alert, self._camera = account, alert, camera_name
        self._on_changed, self._on_back = on_changed, on_back
        self.outcome = ft.RadioGroup(
            content=ft.Column(
                [ft.Radio(value=o.value, label=w) for o, w in OUTCOME_WORDS.items()], spacing=0
            )
        )
        self.notes = ft.TextField(label="Note", multiline=True, min_lines=2, max_lines=4)
        self.result = ft.Text("")
        self.acknowledge = ft.Button("Acknowledge", on_click=self._acknowledge)
        self.mark_reviewed = ft.FilledButton("Mark reviewed", on_click=self._review)
        self.media = ft.Column([common.loading("Loading the evidence…")])
        self.control = ft.Column(scroll=ft.ScrollMode.AUTO, expand=True)
        self._draw()

    async def refresh(self) -> None:
        """Signed links to the snapshot and the clip (good for a few minutes)."""
        assert self._account.client is not None
        try:
            links = await self._account.client.media_links(self.alert.id)
        except ApiError as exc:
            self.media.controls = [common.failed(exc, self.refresh)]
        else:
            self.media.controls = self._evidence(links)
        self._update()

    async def changed_elsewhere(self, alert: AlertPublic) -> None:
        """A live update of this alert (another reviewer, or its evidence now written):
        redraw, and fetch new links when the snapshot or the clip changed."""
        if alert.version < self.alert.version:
            return
        before, self.alert = self.alert, alert
        self._draw()
        self._update()
        if (before.clip_status, before.has_snapshot) != (alert.clip_status, alert.has_snapshot):
            await self.refresh()

    def _evidence(self, links: MediaLinksPublic) -> list[ft.Control]:
        base = self._account.client.address if self._account.client else ""
        shown: list[ft.Control] = []
        if links.snapshot_url:
            shown.append(ft.Image(src=base + links.snapshot_url, fit=ft.BoxFit.CONTAIN))
        clip = links.annotated_url or links.clip_url
        if clip:
            shown.append(
                ft.Container(
                    ftv.Video(playlist=[ftv.VideoMedia(base + clip)], autoplay=False),
                    height=220,
                )
            )
        elif self.alert.clip_status is not None:
            status = self.alert.clip_status
            words = CLIP_WORDS.get(status, f"Clip: {status.value}")
            shown.append(ids.tagged(ids.CLIP_STATE, ft.Text(words, color=common.MUTED)))
        return shown or [common.empty("No snapshot or clip for this alert.")]

    def _draw(self) -> None:
        alert = self.alert
        people = ", ".join(f"#{t}" for t in alert.track_ids) or "—"
        facts = [
            ("Camera", self._camera),
            ("Zone", alert.zone or "—"),
            ("Score", f"{alert.peak_score:.2f}"),
            ("Started", common.when(alert.started_at)),
            ("Last seen", common.when(alert.last_seen_at)),
            ("People", people),
            ("Status", alert.status.value),
        ]
        if alert.outcome is not None:
            facts.append(("Outcome", OUTCOME_WORDS[alert.outcome]))
        if alert.reviewed_by:
            facts.append(("Reviewed by", alert.reviewed_by))
        if alert.notes:
            facts.append(("Note", alert.notes))
        back = ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=self._back)
        self.control.controls = [
            ft.Row([ids.tagged(ids.BACK, back), ft.Text(title(alert), size=20)]),
            self.media,
            *(ft.Row([ft.Text(k, width=100, color=common.MUTED), ft.Text(v)]) for k, v in facts),
            *self._review_controls(),
            ids.tagged(ids.REVIEW_RESULT, self.result),
        ]

    def _review_controls(self) -> list[ft.Control]:
        if not self._account.may_review:
            return [
                ft.Text("Viewers can read alerts; supervisors review them.", color=common.MUTED)
            ]
        if self.alert.status is AlertStatus.reviewed:
            return []
        shown: list[ft.Control] = []
        if self.alert.status is AlertStatus.new:
            shown.append(ids.tagged(ids.ACKNOWLEDGE, self.acknowledge))
        shown += [
            ft.Text("Outcome", color=common.MUTED),
            ids.tagged(ids.OUTCOME, self.outcome),
            ids.tagged(ids.NOTES, self.notes),
            ids.tagged(ids.MARK_REVIEWED, self.mark_reviewed),
        ]
        return shown

    async def _acknowledge(self, _: ft.Event[ft.Button]) -> None:
        await self._change(status=AlertStatus.acknowledged)

    async def _review(self, _: ft.Event[ft.Button]) -> None:
        if not self.outcome.value:
            self.result.value, self.result.color = "choose an outcome first", ft.Colors.ERROR
            return
        await self._change(outcome=AlertOutcome(self.outcome.value), notes=self.notes.value or None)

    async def _change(self, **change: object) -> None:
        assert self._account.client is not None
        try:
            updated = await self._account.client.review(self.alert, **change)  # type: ignore[arg-type]
        except ApiError as exc:
            self.result.value, self.result.color = exc.message, ft.Colors.ERROR
            self._update()
            return
        self.alert = updated
        self.result.value, self.result.color = f"Saved: {updated.status.value}", ft.Colors.GREEN
        self._draw()
        self._update()
        await self._on_changed(updated)

    async def _back(self, _: ft.Event[ft.IconButton]) -> None:
        await self._on_back()

    def _update(self) -> None:
        common.redraw(self.control)
