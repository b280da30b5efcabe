"""Invite people (admins): choose a role and stores, create the invite, and show its code, its
link and a QR code of the link for the new person's phone; pending invites can be revoked.
Self-contained: Settings places `control` and calls `refresh()`."""

from __future__ import annotations

import flet as ft

from mobile.api import invites
from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from shared.schemas.auth import Role
from shared.schemas.invites import InviteCreate, InviteCreated, InvitePublic, InviteStatus
from shared.schemas.stores import StorePublic

QR_SIZE = 220  # logical pixels: a phone's camera reads it off another phone's screen


def role_choices() -> dict[str, str]:
    """Each role and what it may do, for the drop-down."""
    return {
        Role.viewer.value: _("Viewer: sees alerts and cameras"),
        Role.supervisor.value: _("Supervisor: also reviews alerts"),
        Role.admin.value: _("Admin: everything"),
    }


def role_name(role: Role) -> str:
    names = {Role.viewer: _("Viewer"), Role.supervisor: _("Supervisor"), Role.admin: _("Admin")}
    return names[role]


def web_app_address(page: ft.Page | None) -> str | None:
    """Where this app is served when it runs in a browser (its page's `ws://host:8550` →
    `http://host:8550`), so that an invite's link opens the app there; None in a native app,
    whose invites link to the server."""
    if page is None or not page.web or not page.url:
        return None
    scheme, _sep, rest = page.url.partition("://")
    http = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(scheme)
    return f"{http}://{rest.rstrip('/')}" if http and rest else None


class InvitesAdmin:
    def __init__(self, account: Account, app_url: str | None = None) -> None:
        """`app_url`: where the invite's link opens the app; None: where this web app is
        served, or in a native app the server's address."""
        self._account, self._app_url = account, app_url
        self.stores: list[StorePublic] = []
        self.pending: list[InvitePublic] = []
        self.created: InviteCreated | None = None
        self.role = ft.Dropdown(
            label=_("Role"),
            value=Role.viewer.value,
            options=[ft.DropdownOption(key=k, text=t) for k, t in role_choices().items()],
            width=320,
        )
        self.store_boxes: dict[int, ft.Checkbox] = {}
        self.note = ft.TextField(label=_("For whom (optional)"), max_length=200)
        self.create = ft.Button(_("Create invite"), icon=ft.Icons.PERSON_ADD, on_click=self._create)
        self.result = ft.Text("")
        self.revokes: dict[int, ft.IconButton] = {}
        self.shown = ft.Column([], spacing=8)  # the new invite: code, link, QR
        self.control = ft.Column([common.loading()])

    async def refresh(self) -> None:
        client = self._account.client
        assert client is not None
        try:
            self.stores = (await client.stores()).data
            pending = await invites.list_invites(client, InviteStatus.pending)
        except ApiError as exc:
            self.control.controls = [common.failed(exc, self.refresh)]
            common.redraw(self.control)
            return
        self.pending = pending.data
        self._draw()

    def _draw(self) -> None:
        kept = {store_id: box.value for store_id, box in self.store_boxes.items()}
        self.store_boxes = {
            s.id: ft.Checkbox(label=s.name, value=bool(kept.get(s.id))) for s in self.stores
        }
        self.revokes = {}
        rows: list[ft.Control] = [
            ft.Text(_("Invite someone"), weight=ft.FontWeight.BOLD),
            ft.Text(
                _(
                    "They open the link or scan the code on their phone, and choose their own "
                    "user name and password. The invite works once."
                ),
                size=12,
                color=common.MUTED,
            ),
            ids.tagged(ids.INVITE_ROLE, self.role),
            ft.Text(_("Stores they see (admins see every store)"), size=12, color=common.MUTED),
            ft.Column(list(self.store_boxes.values()), spacing=0),
            self.note,
            ids.tagged(ids.CREATE_INVITE, self.create),
            self.result,
            ids.tagged(ids.INVITE_CREATED, self.shown),
            ft.Text(_("Pending invites"), weight=ft.FontWeight.BOLD),
        ]
        if not self.pending:
            rows.append(common.empty(_("No pending invites.")))
        rows += [self._pending_row(invite) for invite in self.pending]
        self.control.controls = rows
        common.redraw(self.control)

    def _pending_row(self, invite: InvitePublic) -> ft.Control:
        async def revoke(_event: ft.Event[ft.IconButton]) -> None:
            await self._revoke(invite)

        who = invite.note or role_name(invite.role)
        button = ft.IconButton(
            ft.Icons.CANCEL_OUTLINED,
            tooltip=_("Revoke the invite for {who}").format(who=who),
            on_click=revoke,
        )
        self.revokes[invite.id] = button
        names = {s.id: s.name for s in self.stores}
        stores = ", ".join(names.get(i, str(i)) for i in invite.store_ids) or _("no stores")
        details = _("{role} · {stores} · until {when}").format(
            role=role_name(invite.role),
            stores=stores,
            when=common.when(invite.expires_at),
        )
        row = ft.Row(
            [
                ft.Column(
                    [
                        ft.Text(who, weight=ft.FontWeight.W_500),
                        ft.Text(details, size=12, color=common.MUTED),
                    ],
                    spacing=2,
                    expand=True,
                ),
                button,
            ]
        )
        return ids.tagged(ids.invite_row(invite.id), row)

    async def _create(self, _event: ft.Event[ft.Button]) -> None:
        client = self._account.client
        assert client is not None
        chosen = [store_id for store_id, box in self.store_boxes.items() if box.value]
        try:
            wanted = InviteCreate(
                role=Role(self.role.value or Role.viewer.value),
                store_ids=chosen,
                note=forms.text(self.note),
                app_url=self._app_url or web_app_address(self.control.page),
            )
        except ValueError as exc:
            forms.refuse(self.result, self.control, forms.first_problem(exc))
            return
        self.create.disabled = True
        forms.say(self.result, _("Creating…"), ok=True)
        common.redraw(self.control)
        try:
            self.created = await invites.create_invite(client, wanted)
        except ApiError as exc:
            self.create.disabled = False
            forms.refuse(self.result, self.control, exc.message)
            return
        self.create.disabled = False
        self.note.value = ""
        self._show_created(self.created)
        forms.say(self.result, _("Invite created: it is shown this once."), ok=True)
        await self.refresh()

    def _show_created(self, invite: InviteCreated) -> None:
        self.shown.controls = [
            ft.Text(_("Code"), size=12, color=common.MUTED),
            ft.Text(invite.code, size=28, weight=ft.FontWeight.BOLD, selectable=True),
            ft.Text(_("Server"), size=12, color=common.MUTED),
            ft.Text(invite.server, selectable=True),
            ft.Text(_("Link"), size=12, color=common.MUTED),
            ft.Text(invite.link, selectable=True, size=12),
            ids.tagged(
                ids.INVITE_QR,
                ft.Image(
                    src=invite.qr_png,
                    width=QR_SIZE,
                    height=QR_SIZE,
                    fit=ft.BoxFit.CONTAIN,
                    semantics_label=_("QR code of the invite's link"),
                ),
            ),
            ft.Text(
                _("Expires {when}").format(when=common.when(invite.expires_at)),
                size=12,
                color=common.MUTED,
            ),
        ]

    async def _revoke(self, invite: InvitePublic) -> None:
        client = self._account.client
        assert client is not None
        try:
            await invites.revoke_invite(client, invite.id)
        except ApiError as exc:
            forms.refuse(self.result, self.control, exc.message)
            return
        if self.created is not None and self.created.id == invite.id:
            self.created, self.shown.controls = None, []
        forms.say(self.result, _("Invite revoked: its code no longer works."), ok=True)
        await self.refresh()
