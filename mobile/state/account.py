"""Which servers this device knows, which one is in use, and who is signed in to each, kept
on the device: the addresses (a store owner with a box in each store has several), the one
in use, and each one's token pair (refreshed by the client, forgotten on sign-out)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from mobile.api.client import ApiClient
from mobile.api.errors import NotAllowed, Rejected
from mobile.api.invites import redeem_invite
from mobile.api.probe import check_server, normalise_address
from mobile.i18n import _
from mobile.state.preferences import Preferences
from shared.schemas.auth import Me, Role, TokenPair
from shared.schemas.invites import InviteRedeem

ADDRESS_KEY = "shopguard.server"  # the server in use
SERVERS_KEY = "shopguard.servers"  # every server added, in order (a JSON list)
TOKENS_KEY = "shopguard.tokens"  # the sign-in of a device that knew one server only


def tokens_key(address: str) -> str:
    return f"{TOKENS_KEY} {address}"


class Account:
    def __init__(self, preferences: Preferences) -> None:
        self._preferences = self.preferences = preferences
        self.address: str | None = None
        self.servers: list[str] = []
        self.me: Me | None = None
        self.client: ApiClient | None = None
        self.before_sign_out: list[Callable[[], Awaitable[None]]] = []

    async def load(self) -> bool:
        """Read what the device kept; True when the server in use has a kept sign-in (not
        yet checked)."""
        self.address = await self._preferences.get(ADDRESS_KEY)
        self.servers = await self._saved_servers()
        if self.address is None:
            return False
        if self.address not in self.servers:
            await self._remember(self.address)
        legacy = await self._preferences.get(TOKENS_KEY)  # before several servers
        if legacy is not None:
            await self._preferences.set(tokens_key(self.address), legacy)
            await self._preferences.remove(TOKENS_KEY)
        return await self._load_sign_in(self.address)

    async def switch(self, address: str) -> bool:
        """Use another known server; True when it has a kept sign-in (then `resume`)."""
        await self._close_client()
        self.me, self.address = None, address
        await self._preferences.set(ADDRESS_KEY, address)
        return await self._load_sign_in(address)

    async def forget(self, address: str) -> None:
        """Remove a server from this device (signing out of it if it is the one in use)."""
        if address == self.address:
            await self.sign_out()
            self.address = None
            await self._preferences.remove(ADDRESS_KEY)
        await self._preferences.remove(tokens_key(address))
        self.servers = [known for known in self.servers if known != address]
        await self._preferences.set(SERVERS_KEY, json.dumps(self.servers))

    async def _load_sign_in(self, address: str) -> bool:
        saved = await self._preferences.get(tokens_key(address))
        if saved is None:
            return False
        try:
            tokens = TokenPair.model_validate_json(saved)
        except ValidationError:
            await self._preferences.remove(tokens_key(address))
            return False
        self.client = ApiClient(address, tokens=tokens, on_tokens=self._tokens_of(address))
        return True

    async def _saved_servers(self) -> list[str]:
        try:
            saved = json.loads(await self._preferences.get(SERVERS_KEY) or "[]")
        except ValueError:
            return []
        return [a for a in saved if isinstance(a, str)] if isinstance(saved, list) else []

    async def _remember(self, address: str) -> None:
        if address not in self.servers:
            self.servers.append(address)
            await self._preferences.set(SERVERS_KEY, json.dumps(self.servers))

    async def resume(self) -> Me:
        """Check the kept sign-in with the server (refreshing it if needed)."""
        assert self.client is not None, "load() found no sign-in"
        self.me = await self.client.me()
        return self.me

    async def sign_in(self, address: str, username: str, password: str) -> Me:
        """Raises the API's errors (unreachable, not ShopGuard, wrong password...)."""

        async def log_in(client: ApiClient) -> None:
            tokens = await client.login(username, password)
            if tokens.must_change_password:
                raise NotAllowed(
                    _("this is a one-time password: set your own in the web console first")
                )

        return await self._sign_in_by(normalise_address(address), log_in)

    async def sign_in_with_invite(
        self, address: str, code: str, username: str, password: str
    ) -> Me:
        """Join `address` with an invite's code as a new user with this name and password,
        and stay signed in. Raises the API's errors (unreachable, a wrong, used or expired
        code, a name that is taken...)."""
        try:
            redeem = InviteRedeem(code=code, username=username, password=password)
        except ValidationError as exc:
            raise Rejected(exc.errors()[0]["msg"]) from None

        async def join(client: ApiClient) -> None:
            await redeem_invite(client, redeem)

        return await self._sign_in_by(normalise_address(address), join)

    async def _sign_in_by(
        self, address: str, sign_in: Callable[[ApiClient], Awaitable[None]]
    ) -> Me:
        """A new client for `address`, signed in by `sign_in`; kept (and the server with it)
        only once that worked."""
        await check_server(address)
        await self._close_client()
        client = ApiClient(address, on_tokens=self._tokens_of(address))
        try:
            await sign_in(client)
            self.me = await client.me()
        except BaseException:
            await client.logout()
            await client.aclose()
            raise
        self.client, self.address = client, address
        await self._preferences.set(ADDRESS_KEY, address)
        await self._remember(address)
        return self.me

    async def sign_out(self) -> None:
        if self.client is not None:
            for step in self.before_sign_out:  # while still signed in
                await step()
            await self.client.logout()
        await self._close_client()
        self.me = None

    async def change_address(self, address: str) -> None:
        """Another address for the server in use (it moved): its sign-in ends."""
        address = normalise_address(address)
        await check_server(address)
        old = self.address
        await self.sign_out()
        self.address = address
        await self._preferences.set(ADDRESS_KEY, address)
        self.servers = [address if known == old else known for known in self.servers]
        await self._remember(address)
        await self._preferences.set(SERVERS_KEY, json.dumps(self.servers))

    @property
    def may_review(self) -> bool:
        return self.me is not None and self.me.role in (Role.admin, Role.supervisor)

    @property
    def is_admin(self) -> bool:
        return self.me is not None and self.me.role is Role.admin

    def _tokens_of(self, address: str) -> Callable[[TokenPair | None], Awaitable[None]]:
        """Keeps (or forgets) the sign-in of `address`, whichever server is in use then."""

        async def keep(tokens: TokenPair | None) -> None:
            if tokens is None:
                await self._preferences.remove(tokens_key(address))
            else:
                await self._preferences.set(tokens_key(address), tokens.model_dump_json())

        return keep

    async def _close_client(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
