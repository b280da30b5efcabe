"""The app bar's server menu: this device's servers, the one in use checked; another one is a
tap away (with its own sign-in), and "Add a server" signs in to one more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import flet as ft

from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, ids
from shared.schemas.stores import StorePublic

ADD = "+"


def host_of(address: str | None) -> str:
    """The server as people tell them apart: `192.168.1.20`, `shop.example:8443`."""
    return urlsplit(address or "").netloc or (address or "ShopGuard")


def place_name(stores: Iterable[StorePublic], address: str | None) -> str:
    """The store the user looks after, "Downtown + 2" for several, else the server's host."""
    names = sorted(store.name for store in stores)
    if not names:
        return host_of(address)
    if len(names) == 1:
        return names[0]
    return _("{store} + {more}").format(store=names[0], more=len(names) - 1)


class ServerMenu:
    def __init__(
        self,
        account: Account,
        switch: Callable[[str], Awaitable[None]],
        add: Callable[[], Awaitable[None]],
    ) -> None:
        self._account, self._switch, self._add = account, switch, add
        self.menu = ft.PopupMenuButton(
            icon=ft.Icons.STOREFRONT_OUTLINED, tooltip=_("Servers"), items=[]
        )
        self.control = ids.tagged(ids.SERVER_MENU, self.menu)
        self.draw()

    def draw(self) -> None:
        items: list[ft.PopupMenuItem] = [
            ft.PopupMenuItem(
                content=host_of(address)
                if address != self._account.address
                else _("{server} (in use)").format(server=host_of(address)),
                checked=address == self._account.address,
                on_click=self._chosen(address),
            )
            for address in self._account.servers
        ]
        items.append(ft.PopupMenuItem())  # a divider
        items.append(
            ft.PopupMenuItem(
                content=_("Add a server"), icon=ft.Icons.ADD, on_click=self._chosen(ADD)
            )
        )
        self.menu.items = items
        common.redraw(self.menu)

    def _chosen(self, address: str) -> Callable[[ft.Event[ft.PopupMenuItem]], Awaitable[None]]:
        async def chosen(_event: ft.Event[ft.PopupMenuItem]) -> None:
            if address == ADD:
                await self._add()
            elif address != self._account.address:
                await self._switch(address)

        return chosen


class ServerList:
    """Settings' list of this device's servers: use one, forget one, add one."""

    def __init__(
        self,
        account: Account,
        switch: Callable[[str], Awaitable[None]],
        add: Callable[[], Awaitable[None]],
    ) -> None:
        self._account, self._switch, self._add = account, switch, add
        self.rows = ft.Column([], spacing=0)
        self.control = ft.Column(
            [
                ft.Text(_("Servers on this device"), weight=ft.FontWeight.BOLD),
                self.rows,
                ids.tagged(
                    ids.ADD_SERVER,
                    ft.OutlinedButton(_("Add a server"), icon=ft.Icons.ADD, on_click=self._added),
                ),
            ],
            spacing=4,
        )
        self.draw()

    def draw(self) -> None:
        self.rows.controls = [self._row(address) for address in self._account.servers]
        common.redraw(self.control)

    def _row(self, address: str) -> ft.Control:
        in_use = address == self._account.address

        async def used(_event: ft.Event[ft.TextButton]) -> None:
            await self._switch(address)

        async def forgotten(_event: ft.Event[ft.IconButton]) -> None:
            await self._account.forget(address)
            if in_use:
                await self._add()
            else:
                self.draw()

        actions: list[ft.Control] = []
        if not in_use:
            actions.append(ft.TextButton(_("Use"), on_click=used))
        actions.append(
            ft.IconButton(
                ft.Icons.DELETE_OUTLINE,
                tooltip=_("Forget {server}").format(server=host_of(address)),
                on_click=forgotten,
            )
        )
        return ids.tagged(
            ids.server_row(address),
            ft.ListTile(
                title=ft.Text(host_of(address)),
                subtitle=ft.Text(_("In use") if in_use else address),
                leading=ft.Icon(
                    ft.Icons.CHECK_CIRCLE if in_use else ft.Icons.DNS_OUTLINED,
                    color=ft.Colors.PRIMARY if in_use else None,
                ),
                trailing=ft.Row(actions, tight=True),
                content_padding=0,
            ),
        )

    async def _added(self, _event: ft.Event[ft.OutlinedButton]) -> None:
        await self._add()
