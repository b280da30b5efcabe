"""One alert: the snapshot as the clip's poster, the clip playing inline (clean or with people
and scores drawn, one tap to switch), where and when, the level, the people involved, and the
review: large outcome buttons (Confirmed theft, Deterred, False alarm) with a note, and for a
theft or a deterred incident the goods' value in the store's currency (and whether stolen
goods were got back). Supervisors and admins review and share the evidence; viewers only
read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft
import flet_video as ftv

from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import alert_words, common, ids, money
from mobile.ui.alert_words import title
from mobile.ui.evidence_share import ShareEvidence
from shared.schemas.alerts import (
    VALUED_OUTCOMES,
    AlertOutcome,
    AlertPublic,
    AlertStatus,
    MediaLinksPublic,
)

PLAYER_HEIGHT = 220
BIG_OUTCOMES = (AlertOutcome.confirmed_theft, AlertOutcome.deterred, AlertOutcome.false_alarm)
CLEAN, ANNOTATED = "clean", "annotated"
# identifiers of the goods' value controls (see mobile.ui.ids)
GOODS_VALUE = "goods-value"
GOODS_RECOVERED = "goods-recovered"
SAVE_GOODS = "save-goods"
GOODS_FACT = "goods-fact"


class AlertDetail:
    def __init__(
        self,
        account: Account,
        alert: AlertPublic,
        place: tuple[str, str],
        on_changed: Callable[[AlertPublic], Awaitable[None]],
        on_back: Callable[[], Awaitable[None]],
    ) -> None:
        """`place`: the alert's camera and store names."""
        self._account, self.alert = account, alert
        self._camera, self._store = place
        self._on_changed, self._on_back = on_changed, on_back
        self.links: MediaLinksPublic | None = None
        self.view = ANNOTATED
        self.playing = False  # the poster until the play button is tapped
        self.play = ft.IconButton(
            ft.Icons.PLAY_CIRCLE_FILL,
            icon_size=64,
            icon_color=ft.Colors.WHITE,
            tooltip=_("Play the clip"),
            on_click=self._played,
        )
        self.notes = ft.TextField(
            label=_("Note"), multiline=True, min_lines=2, max_lines=4, value=alert.notes
        )
        self.result = ft.Text("")
        self.acknowledge = ft.OutlinedButton(
            _("I'm on it"), icon=ft.Icons.VISIBILITY, on_click=self._acknowledge
        )
        self.outcomes = {o: self._outcome_button(o) for o in AlertOutcome}
        self.save_note = ft.TextButton(_("Save note"), on_click=self._save_note)
        self.currency = alert.currency  # live events do not name it: kept from the start
        self.goods_value = ft.TextField(
            value=money.editable(alert.goods_value),
            keyboard_type=ft.KeyboardType.NUMBER,
            width=260,
        )
        self.recovered = ft.Switch(label=_("Goods recovered"), value=bool(alert.goods_recovered))
        self.save_goods = ft.FilledTonalButton(
            _("Save value"), icon=ft.Icons.SAVINGS_OUTLINED, on_click=self._save_goods
        )
        self.switch = ft.SegmentedButton(
            segments=[
                ft.Segment(value=ANNOTATED, label=_("People marked")),
                ft.Segment(value=CLEAN, label=_("Original")),
            ],
            selected=[ANNOTATED],
            on_change=self._switched,
        )
        self.share = ShareEvidence(account, alert)
        self.media = ft.Column([common.loading(_("Loading the evidence…"))])
        self.control = ft.Column(scroll=ft.ScrollMode.AUTO, expand=True, spacing=12)
        self._draw()

    async def refresh(self) -> None:
        """Signed links to the snapshot and the clips (good for a few minutes); the store's
        currency when the alert came in a live event."""
        assert self._account.client is not None
        if self.currency is None:
            try:
                self.currency = (await self._account.client.alert(self.alert.id)).currency
            except ApiError:
                pass  # the value is still shown, without its currency
            else:
                self._draw()
        try:
            self.links = await self._account.client.media_links(self.alert.id)
        except ApiError as exc:
            self.media.controls = [common.failed(exc, self.refresh)]
        else:
            self.media.controls = self._evidence()
        self._update()

    async def changed_elsewhere(self, alert: AlertPublic) -> None:
        """A live update of this alert (another reviewer, or its evidence now written):
        redraw, and fetch new links when the snapshot or the clip changed."""
        if alert.version < self.alert.version:
            return
        before, self.alert = self.alert, alert
        if _goods(before) != _goods(alert):
            self._show_goods(alert)
        if (self.notes.value or "") == before.notes:  # nothing typed here: show theirs
            self.notes.value = alert.notes
        self.share.alert = alert
        self._draw()
        self._update()
        evidence = ("clip_status", "has_snapshot", "has_clip", "has_annotated_clip")
        if any(getattr(before, name) != getattr(alert, name) for name in evidence):
            await self.refresh()

    # -- evidence ---------------------------------------------------------------------------

    def _evidence(self) -> list[ft.Control]:
        links, base = self.links, self._account.client.address if self._account.client else ""
        assert links is not None
        poster = base + links.snapshot_url if links.snapshot_url else None
        clips = {CLEAN: links.clip_url, ANNOTATED: links.annotated_url}
        shown: list[ft.Control] = []
        if any(clips.values()):
            if clips[self.view] is None:  # the annotated one may come later than the clean
                self.view = CLEAN if clips[CLEAN] else ANNOTATED
            self.switch.selected = [self.view]
            clip = clips[self.view]
            assert clip is not None
            if self.playing or poster is None:
                player: ft.Control = ftv.Video(
                    playlist=[ftv.VideoMedia(base + clip)],
                    autoplay=self.playing,
                    title=_("Evidence clip"),
                    fill_color=ft.Colors.BLACK,
                )
            else:  # the snapshot until played: never a black box
                player = self._poster(poster, playable=True)
            shown.append(ids.tagged(ids.CLIP_PLAYER, ft.Container(player, height=PLAYER_HEIGHT)))
            if all(clips.values()):  # people marked, and the original
                shown.append(ids.tagged(ids.CLIP_SWITCH, self.switch))
        elif poster is not None:
            shown.append(self._poster(poster))
        if not any(clips.values()) and self.alert.clip_status is not None:
            words = alert_words.clip_words(self.alert.clip_status)
            shown.append(ids.tagged(ids.CLIP_STATE, ft.Text(words, color=common.MUTED)))
        return shown or [common.empty(_("No snapshot or clip for this alert."))]

    def _poster(self, address: str, *, playable: bool = False) -> ft.Control:
        """The snapshot; with `playable`, a play button over it starts the clip."""
        picture = ft.Image(
            src=address,
            fit=ft.BoxFit.CONTAIN,
            height=PLAYER_HEIGHT,
            semantics_label=_("Snapshot of the moment the alert was raised"),
        )
        layers: list[ft.Control] = [ft.Container(picture, alignment=ft.Alignment.CENTER)]
        if playable:
            layers.append(
                ft.Container(
                    ids.tagged(ids.PLAY_CLIP, self.play),
                    alignment=ft.Alignment.CENTER,
                )
            )
        return ft.Container(
            ft.Stack(layers, expand=True),
            bgcolor=ft.Colors.BLACK,
            border_radius=8,
            clip_behavior=ft.ClipBehavior.ANTI_ALIAS,
            height=PLAYER_HEIGHT,
        )

    async def _played(self, _event: ft.Event[ft.IconButton]) -> None:
        self.playing = True
        if self.links is not None:
            self.media.controls = self._evidence()
            self._update()

    async def _switched(self, event: ft.Event[ft.SegmentedButton]) -> None:
        chosen = event.control.selected
        self.view = chosen[0] if chosen else ANNOTATED
        if self.links is not None:
            self.media.controls = self._evidence()
            self._update()

    # -- what happened ----------------------------------------------------------------------

    def _draw(self) -> None:
        alert = self.alert
        where = (
            _("{camera} · {store}").format(camera=self._camera, store=self._store)
            if self._store
            else self._camera
        )
        if alert.zone:
            where = _("{where} · {zone}").format(where=where, zone=alert.zone)
        when = _("{moment} ({ago})").format(
            moment=common.when(alert.started_at), ago=alert_words.ago(alert.started_at)
        )
        status = alert_words.chip(
            alert_words.status_words(alert.status), alert_words.STATUS_COLOURS[alert.status]
        )
        back = ft.IconButton(ft.Icons.ARROW_BACK, tooltip=_("Back"), on_click=self._back)
        header = ft.Row(
            [
                ids.tagged(ids.BACK, back),
                ft.Text(title(alert), size=20, weight=ft.FontWeight.W_600, expand=True),
                status,
            ]
        )
        facts = ft.Column(
            [
                _fact(ft.Icons.VIDEOCAM_OUTLINED, where),
                _fact(ft.Icons.SCHEDULE, when),
                _level(alert.peak_score),
                _fact(ft.Icons.PEOPLE_OUTLINE, self._people()),
                *self._review_facts(),
                *self._goods_facts(),
            ],
            spacing=6,
        )
        self.control.controls = [
            header,
            self.media,
            ids.tagged(ids.ALERT_FACTS, facts),
            *self._review_controls(),
            ids.tagged(ids.REVIEW_RESULT, self.result),
        ]

    def _people(self) -> str:
        people = [_("person {n}").format(n=track) for track in self.alert.track_ids]
        if not people:
            return _("No one tracked")
        return _("Involved: {people}").format(people=", ".join(people))

    def _review_facts(self) -> list[ft.Control]:
        alert, shown = self.alert, list[ft.Control]()
        if alert.outcome is not None:
            outcome = alert_words.chip(
                alert_words.outcome_words(alert.outcome),
                alert_words.OUTCOME_COLOURS[alert.outcome],
            )
            by = alert.reviewed_by or "?"
            when = common.when(alert.reviewed_at) if alert.reviewed_at else ""
            shown.append(
                ft.Row(  # no wrap: an expanding child cannot sit in a wrapping row
                    [
                        ft.Icon(ft.Icons.FACT_CHECK_OUTLINED, size=18),
                        ft.Column(
                            [outcome, ft.Text(_("by {user} {when}").format(user=by, when=when))],
                            spacing=2,
                            expand=True,
                        ),
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.START,
                )
            )
        elif alert.acknowledged_by:
            shown.append(
                _fact(
                    ft.Icons.VISIBILITY_OUTLINED,
                    _("Seen by {user}").format(user=alert.acknowledged_by),
                )
            )
        if alert.notes and not self._account.may_review:
            shown.append(_fact(ft.Icons.NOTES, alert.notes))
        return shown

    def _goods_facts(self) -> list[ft.Control]:
        alert = self.alert
        if alert.goods_value is None:
            return []
        value = money.amount(alert.goods_value, self.currency)
        if alert.outcome is AlertOutcome.deterred:
            words = _("Goods at risk: {value}").format(value=value)
        elif alert.goods_recovered:
            words = _("Stolen goods: {value}, recovered").format(value=value)
        else:
            words = _("Stolen goods: {value}, not recovered").format(value=value)
        return [ids.tagged(GOODS_FACT, _fact(ft.Icons.SELL_OUTLINED, words))]

    # -- the review -------------------------------------------------------------------------

    def _outcome_button(self, outcome: AlertOutcome) -> ft.Control:
        async def chosen(_event: object) -> None:
            if outcome in VALUED_OUTCOMES and (self.goods_value.value or "").strip():
                await self._record_goods(outcome)  # a value typed already goes with it
            else:
                await self._change(outcome=outcome, notes=self.notes.value or None)

        words = alert_words.outcome_words(outcome)
        if outcome not in BIG_OUTCOMES:
            return ft.TextButton(words, on_click=chosen)
        return ft.FilledTonalButton(
            words,
            icon={
                AlertOutcome.confirmed_theft: ft.Icons.GAVEL,
                AlertOutcome.deterred: ft.Icons.BACK_HAND_OUTLINED,
                AlertOutcome.false_alarm: ft.Icons.DO_NOT_DISTURB_ON_OUTLINED,
            }[outcome],
            icon_color=alert_words.OUTCOME_COLOURS[outcome],
            height=52,
            on_click=chosen,
        )

    def _review_controls(self) -> list[ft.Control]:
        if not self._account.may_review:
            note = _("Viewers can read alerts; supervisors review them.")
            return [ft.Text(note, color=common.MUTED)]
        shown: list[ft.Control] = []
        if self.alert.status is AlertStatus.new:
            shown.append(ids.tagged(ids.ACKNOWLEDGE, self.acknowledge))
        reviewed = self.alert.status is AlertStatus.reviewed
        shown.append(
            ft.Text(
                _("Change the outcome") if reviewed else _("What happened?"),
                weight=ft.FontWeight.W_600,
            )
        )
        shown.append(
            ft.Column(  # large, full-width targets
                [ids.tagged(ids.outcome_button(o.value), self.outcomes[o]) for o in BIG_OUTCOMES],
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                spacing=8,
            )
        )
        shown += self._goods_controls()
        shown += [
            ft.Row(
                [
                    ids.tagged(
                        ids.outcome_button(AlertOutcome.unclear.value),
                        self.outcomes[AlertOutcome.unclear],
                    )
                ],
            ),
            ids.tagged(ids.NOTES, self.notes),
            ft.Row([ids.tagged(ids.SAVE_NOTE, self.save_note)]),
            ids.tagged(ids.SHARE_EVIDENCE, self.share.control),
        ]
        return shown

    def _goods_controls(self) -> list[ft.Control]:
        """For a theft or a deterred incident: the goods' value, and for a theft whether
        they were got back."""
        outcome = self.alert.outcome
        if outcome not in VALUED_OUTCOMES:
            return []
        theft = outcome is AlertOutcome.confirmed_theft
        self.goods_value.label = (
            _("Value of the stolen goods") if theft else _("Value of the goods at risk")
        )
        self.goods_value.suffix = self.currency or ""
        shown: list[ft.Control] = [
            ft.Text(
                _("What were the goods worth? Stats adds it up as losses."),
                size=12,
                color=common.MUTED,
            ),
            ids.tagged(GOODS_VALUE, self.goods_value),
        ]
        if theft:
            shown.append(ids.tagged(GOODS_RECOVERED, self.recovered))
        shown.append(ft.Row([ids.tagged(SAVE_GOODS, self.save_goods)]))
        return [ft.Column(shown, spacing=8)]

    def _show_goods(self, alert: AlertPublic) -> None:
        self.goods_value.value = money.editable(alert.goods_value)
        self.goods_value.error = None
        self.recovered.value = bool(alert.goods_recovered)

    async def _save_goods(self, _event: ft.Event[ft.Button]) -> None:
        await self._record_goods(None)

    async def _record_goods(self, outcome: AlertOutcome | None) -> None:
        """Save the typed value (empty: none), with `outcome` when one was just picked."""
        try:
            value = money.read_amount(self.goods_value.value or "")
        except ValueError as exc:
            self.goods_value.error = str(exc)
            self._update()
            return
        self.goods_value.error = None
        theft = (outcome or self.alert.outcome) is AlertOutcome.confirmed_theft
        goods: dict[str, object] = {
            "goods_value": value,
            "goods_recovered": bool(self.recovered.value) if theft else None,
        }
        if outcome is not None:
            goods |= {"outcome": outcome, "notes": self.notes.value or None}
        await self._change(**goods)

    async def _acknowledge(self, _event: ft.Event[ft.OutlinedButton]) -> None:
        await self._change(status=AlertStatus.acknowledged)

    async def _save_note(self, _event: ft.Event[ft.TextButton]) -> None:
        await self._change(notes=self.notes.value or "")

    async def _change(self, **change: object) -> None:
        """A review step; with `goods_value`, the goods' value too."""
        updated: AlertPublic | None
        try:
            updated = await self._send(change)
        except ApiError as exc:
            if exc.code != "conflict":
                self._failed(exc.message)
                return
            try:  # the alert changed since it was shown: by the server, or by a person?
                updated = await self._send_again(change)
            except ApiError as again:
                self._failed(again.message)
                return
        if updated is None:
            self._failed(_("Someone else changed this alert meanwhile: check it, then choose."))
            return
        if updated.currency is None:
            updated = updated.model_copy(update={"currency": self.currency})
        self.currency = updated.currency
        self.alert = self.share.alert = updated
        self._show_goods(updated)
        if updated.outcome is not None and "outcome" in change:
            saved = alert_words.outcome_words(updated.outcome)
        elif "goods_value" in change:
            saved = _("the goods' value")
        elif "notes" in change and "outcome" not in change:
            saved = _("note")
        else:
            saved = alert_words.status_words(updated.status)
        self.result.value = _("Saved: {what}").format(what=saved)
        self.result.color = ft.Colors.GREEN
        self._draw()
        self._update()
        await self._on_changed(updated)

    async def _send(self, change: dict[str, object]) -> AlertPublic:
        client = self._account.client
        assert client is not None
        if "goods_value" in change:
            return await client.review_goods(self.alert, **change)  # type: ignore[arg-type]
        return await client.review(self.alert, **change)  # type: ignore[arg-type]

    async def _send_again(self, change: dict[str, object]) -> AlertPublic | None:
        """After a 409: the alert as it stands now. When only the server changed it (its
        clip written, the incident grown), the step goes again on the fresh version; when a
        person did, it is shown and None returned (their review is not overwritten)."""
        client = self._account.client
        assert client is not None
        fresh = await client.alert(self.alert.id)
        reviewed_meanwhile = _review(fresh) != _review(self.alert)
        await self.changed_elsewhere(fresh)
        if reviewed_meanwhile:
            return None
        return await self._send(change)

    def _failed(self, message: str) -> None:
        self.result.value, self.result.color = message, ft.Colors.ERROR
        self._update()

    async def _back(self, _event: ft.Event[ft.IconButton]) -> None:
        await self._on_back()

    def _update(self) -> None:
        common.redraw(self.control)


def _fact(icon: ft.IconData, words: str) -> ft.Control:
    return ft.Row(
        [ft.Icon(icon, size=18), ft.Text(words, expand=True)],
        vertical_alignment=ft.CrossAxisAlignment.START,
    )


def _review(alert: AlertPublic) -> tuple[object, ...]:
    """What people set on an alert; the rest (evidence, the incident's growth) the server
    writes."""
    return (
        alert.status,
        alert.outcome,
        alert.notes,
        alert.acknowledged_by,
        alert.reviewed_by,
        *_goods(alert),
    )


def _goods(alert: AlertPublic) -> tuple[object, ...]:
    return alert.outcome, alert.goods_value, alert.goods_recovered


def _level(score: float) -> ft.Control:
    return ft.Row([ft.Icon(ft.Icons.SPEED, size=18), alert_words.level_bars(score)])
