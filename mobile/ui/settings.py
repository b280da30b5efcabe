"""Settings, in sections: the servers (switch, add, forget; a moved server's new address),
the account (who is signed in, signing out), notifications, appearance; for admins the
cameras and DVRs, detection (alert budget, threshold, dedup window, clip lengths, evidence
retention) and users (invites); and about (versions, licences, the model's figures)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _, formats
from mobile.state.account import Account
from mobile.state.push import PushRegistration, web_push_link
from mobile.ui import common, forms, ids
from mobile.ui.about import AboutSection
from mobile.ui.appearance import Appearance, mode_words
from mobile.ui.attention import Attention
from mobile.ui.camera_admin import CameraAdmin
from mobile.ui.invites_admin import InvitesAdmin
from mobile.ui.language_choice import LanguageChoice
from mobile.ui.notifications import NotificationSettings
from mobile.ui.servers import ServerList
from shared.schemas.auth import Role
from shared.schemas.settings import (
    ClipSettings,
    DetectionSettings,
    RetentionSettings,
    RuntimeSettings,
    RuntimeSettingsUpdate,
)


class SettingsScreen:
    def __init__(
        self,
        account: Account,
        attention: Attention,
        push: PushRegistration,
        on_signed_out: Callable[[], Awaitable[None]],
        appearance: Appearance,
        servers: ServerList,
        language: LanguageChoice,
    ) -> None:
        self._account, self._attention, self._on_signed_out = account, attention, on_signed_out
        self._push, self._appearance, self.servers = push, appearance, servers
        self.language = language
        self.push_state = ft.Text("", size=12, color=common.MUTED)
        self.browser_push = ft.OutlinedButton(
            _("Get alerts in this browser"),
            icon=ft.Icons.NOTIFICATIONS_ACTIVE_OUTLINED,
            on_click=self._open_browser_push,
        )
        self.browser_push_line = ids.tagged(ids.BROWSER_PUSH, self.browser_push)
        self.sign_out = ft.Button(_("Sign out"), on_click=self._sign_out)
        self.sound = ft.Switch(
            label=_("Sound for new alerts on this device"), on_change=self._sound
        )
        self.address = ft.TextField(
            label=_("Address of the server in use"), value=account.address or ""
        )
        self.address_result = ft.Text("")
        self.theme = common.choice(
            _("Theme"), appearance.mode, mode_words(), self._theme_chosen, 200
        )
        self.budget = ft.TextField(
            label=_("At most this many alerts per camera a day (empty: the model's figure)")
        )
        self.threshold = ft.TextField(
            label=_("Alert threshold while a camera learns, 0 to 1 (empty: the model's)")
        )
        self.dedup = ft.TextField(label=_("Dedup window (s)"))
        self.pre_roll = ft.TextField(label=_("Clip before (s)"))
        self.post_roll = ft.TextField(label=_("Clip after (s)"))
        self.unreviewed_days = ft.TextField(label=_("Keep unreviewed and false alarms (days)"))
        self.confirmed_days = ft.TextField(label=_("Keep confirmed thefts (days)"))
        self.disk_cap = ft.TextField(label=_("Evidence disk cap (GB)"))
        self.saved = ft.Text("")
        self.save = ft.FilledButton(_("Save"), on_click=self._save)
        self.notifications = NotificationSettings(account)
        self.cameras = CameraAdmin(account, self.open_form, self.refresh)
        self.about = AboutSection(account)
        self.invites = InvitesAdmin(account)
        self._settings: RuntimeSettings | None = None
        self.control = ft.Column(scroll=ft.ScrollMode.AUTO, expand=True)

    def open_form(self, form: ft.Control) -> None:
        """Show a form (a camera's, a DVR's) in place of the settings until it closes."""
        self.control.controls = [form]
        self._update()

    async def refresh(self) -> None:
        me = self._account.me
        self.address.value = self._account.address or ""
        self.sound.value = self._attention.sound_on
        self.push_state.value = self._push_words()
        self.browser_push_line.visible = bool(self._page_is_web()) and not self._push.supported
        signed_in = (
            _("Signed in as {user} ({role})").format(user=me.username, role=role_words(me.role))
            if me
            else ""
        )
        sections: list[ft.Control] = [
            section(
                ids.SECTION_SERVER,
                _("Server"),
                ft.Icons.DNS_OUTLINED,
                [
                    ids.tagged(ids.SERVER_ADDRESS, self.address),
                    ft.Button(_("Test and use this address"), on_click=self._change_address),
                    self.address_result,
                    self.servers.control,
                ],
            ),
            section(
                ids.SECTION_ACCOUNT,
                _("Account"),
                ft.Icons.PERSON_OUTLINE,
                [ft.Text(signed_in), ids.tagged(ids.SIGN_OUT, self.sign_out)],
                expanded=True,
            ),
            section(
                ids.SECTION_NOTIFICATIONS,
                _("Notifications"),
                ft.Icons.NOTIFICATIONS_OUTLINED,
                [
                    ids.tagged(ids.SOUND, self.sound),
                    self.notifications.control,
                    ids.tagged(ids.PUSH_STATE, self.push_state),
                    self.browser_push_line,
                ],
            ),
            section(
                ids.SECTION_APPEARANCE,
                _("Appearance"),
                ft.Icons.PALETTE_OUTLINED,
                [
                    ids.tagged(ids.THEME_MODE, self.theme),
                    ids.tagged(ids.LANGUAGE, self.language.control),
                ],
            ),
        ]
        if self._account.is_admin and self._account.client is not None:
            sections += [
                section(
                    ids.SECTION_CAMERAS,
                    _("Cameras and DVRs"),
                    ft.Icons.VIDEOCAM_OUTLINED,
                    [self.cameras.control],
                ),
                section(
                    ids.SECTION_DETECTION,
                    _("Detection and evidence"),
                    ft.Icons.TUNE,
                    await self._detection_rows(),
                ),
                section(
                    ids.SECTION_USERS,
                    _("Users and invites"),
                    ft.Icons.GROUP_ADD_OUTLINED,
                    [self.invites.control],
                ),
            ]
        sections.append(
            section(ids.SECTION_ABOUT, _("About"), ft.Icons.INFO_OUTLINE, [self.about.control])
        )
        self.control.controls = sections
        self._update()
        await self.language.load()
        await self._refresh_sections()
        if self._account.is_admin:
            await self.invites.refresh()
        await self.about.refresh()

    async def _detection_rows(self) -> list[ft.Control]:
        assert self._account.client is not None
        try:
            self._settings = await self._account.client.settings()
        except ApiError as exc:
            return [common.failed(exc, self.refresh)]
        self._fill(self._settings)
        return [
            self.budget,
            self.threshold,
            self.dedup,
            self.pre_roll,
            self.post_roll,
            ft.Text(_("Evidence retention"), weight=ft.FontWeight.BOLD),
            self.unreviewed_days,
            self.confirmed_days,
            self.disk_cap,
            ids.tagged(ids.SAVE_SETTINGS, self.save),
            self.saved,
        ]

    async def _refresh_sections(self) -> None:
        """Notifications and, for admins, cameras: over one load of stores and cameras."""
        client = self._account.client
        assert client is not None
        try:
            seen = (await client.stores()).data, (await client.cameras()).data
        except ApiError as exc:
            self.notifications.control.controls = [common.failed(exc, self._refresh_sections)]
            self._update()
            return
        await self.notifications.refresh(*seen)
        if self._account.is_admin:
            await self.cameras.refresh(seen)

    def _fill(self, current: RuntimeSettings) -> None:
        threshold = current.detection.threshold
        self.threshold.value = "" if threshold is None else formats.plain(threshold)
        budget = current.detection.alert_budget_per_day
        self.budget.value = "" if budget is None else formats.plain(budget)
        self.dedup.value = formats.plain(current.detection.dedup_window_s)
        self.pre_roll.value = formats.plain(current.clips.pre_roll_s)
        self.post_roll.value = formats.plain(current.clips.post_roll_s)
        self.unreviewed_days.value = str(current.retention.unreviewed_days)
        self.confirmed_days.value = str(current.retention.confirmed_days)
        self.disk_cap.value = formats.plain(current.retention.disk_cap_gb)

    async def _save(self, _event: ft.Event[ft.Button]) -> None:
        assert self._settings is not None and self._account.client is not None
        try:
            threshold = forms.optional_number(self.threshold, _("the threshold"))
            change = RuntimeSettingsUpdate(
                detection=DetectionSettings(
                    threshold=threshold,
                    alert_budget_per_day=forms.optional_number(self.budget, _("the alerts a day")),
                    budget_thresholds=self._settings.detection.budget_thresholds,
                    dedup_window_s=forms.number(self.dedup, _("the dedup window")),
                    analysis_fps=self._settings.detection.analysis_fps,
                ),
                clips=ClipSettings(
                    pre_roll_s=forms.number(self.pre_roll, _("the clip's time before")),
                    post_roll_s=forms.number(self.post_roll, _("the clip's time after")),
                    max_event_s=self._settings.clips.max_event_s,
                ),
                retention=RetentionSettings(
                    unreviewed_days=forms.whole(self.unreviewed_days, _("the days to keep alerts")),
                    confirmed_days=forms.whole(self.confirmed_days, _("the days to keep thefts")),
                    disk_cap_gb=forms.number(self.disk_cap, _("the disk cap")),
                ),
            )
        except ValueError as exc:  # pydantic's ValidationError is one
            forms.say(self.saved, forms.first_problem(exc, self._labels()), ok=False)
            self._update()
            return
        try:
            self._settings = await self._account.client.update_settings(change)
        except ApiError as exc:
            self.saved.value, self.saved.color = exc.message, ft.Colors.ERROR
        else:
            self.saved.value, self.saved.color = _("Saved"), ft.Colors.GREEN
            await self.cameras.refresh()  # a new budget moves cameras' thresholds
        self._update()

    def _labels(self) -> dict[str, str]:
        fields = {
            "alert_budget_per_day": self.budget,
            "threshold": self.threshold,
            "dedup_window_s": self.dedup,
            "pre_roll_s": self.pre_roll,
            "post_roll_s": self.post_roll,
            "unreviewed_days": self.unreviewed_days,
            "confirmed_days": self.confirmed_days,
            "disk_cap_gb": self.disk_cap,
        }
        return {name: str(field.label) for name, field in fields.items()}

    async def _change_address(self, _event: ft.Event[ft.Button]) -> None:
        if (self.address.value or "").strip().rstrip("/") == self._account.address:
            self.address_result.value = _("This is the server in use.")
            self._update()
            return
        try:
            await self._account.change_address(self.address.value or "")
        except ApiError as exc:
            self.address_result.value, self.address_result.color = exc.message, ft.Colors.ERROR
            self._update()
            return
        await self._on_signed_out()

    def _page_is_web(self) -> bool:
        try:
            return bool(self.control.page.web)
        except RuntimeError:  # not on the page yet
            return bool(ft.context.page.web)

    async def _open_browser_push(self, event: ft.Event[ft.OutlinedButton]) -> None:
        """The server's Web Push page, signed in, in a new tab: it subscribes this browser."""
        client = self._account.client
        assert client is not None
        try:
            link = await web_push_link(client, event.control.page.url)
        except ApiError as exc:
            self.push_state.value = exc.message
            self._update()
            return
        await ft.UrlLauncher().launch_url(link, web_only_window_name="_blank")

    def _push_words(self) -> str:
        if not self._push.supported and self._page_is_web():
            return _(
                "In a browser, alerts are pushed through the server's push page: open it "
                "below and allow notifications."
            )
        if not self._push.supported:
            return _(
                "This build of the app cannot receive pushes: alerts arrive while it is "
                "open. The preferences above apply to your other phones."
            )
        if self._push.device is not None:
            return _("This device receives pushes.")
        return _("This device is not registered for pushes: {problem}").format(
            problem=self._push.problem or _("unknown")
        )

    async def _sound(self, event: ft.Event[ft.Switch]) -> None:
        await self._attention.set_sound(bool(event.control.value))
        if event.control.value:
            self._attention.new_alert()  # what it will sound like

    async def _theme_chosen(self, event: ft.Event[ft.Dropdown]) -> None:
        await self._appearance.choose(event.control.value or "system")

    async def _sign_out(self, _event: ft.Event[ft.Button]) -> None:
        await self._account.sign_out()
        await self._on_signed_out()

    def _update(self) -> None:
        common.redraw(self.control)


def section(
    identifier: str,
    title: str,
    icon: ft.IconData,
    controls: list[ft.Control],
    *,
    expanded: bool = False,
) -> ft.Control:
    """One part of Settings, folded under its title."""
    return ids.tagged(
        identifier,
        ft.ExpansionTile(
            title=ft.Text(title, weight=ft.FontWeight.W_600),
            leading=ft.Icon(icon),
            controls=[  # at the left, whatever the section's width
                ft.Container(ft.Column(controls, spacing=12), alignment=ft.Alignment.TOP_LEFT)
            ],
            controls_padding=ft.Padding.symmetric(horizontal=16, vertical=8),
            expanded_cross_axis_alignment=ft.CrossAxisAlignment.START,
            expanded=expanded,
            maintain_state=True,
        ),
    )


def role_words(role: Role) -> str:
    return {
        Role.admin: _("admin"),
        Role.supervisor: _("supervisor"),
        Role.viewer: _("viewer"),
    }[role]
