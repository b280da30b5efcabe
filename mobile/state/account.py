"""Where the server is and who is signed in, kept on the device: the address, and the token
pair (refreshed by the client, forgotten on sign-out)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from mobile.api.client import ApiClient
from mobile.api.errors import NotAllowed
from mobile.api.probe import check_server, normalise_address
from mobile.state.preferences import Preferences
from shared.schemas.auth import Me, Role, TokenPair

ADDRESS_KEY = "shopguard.server"
TOKENS_KEY = "shopguard.tokens"


class Account:
    def __init__(self, preferences: Preferences) -> None:
        self._preferences = preferences
        self.address: str | None = None
        self.me: Me | None = None
        self.client: ApiClient | None = None
        self.before_sign_out: list[Callable[[], Awaitable[None]]] = []

    async def load(self) -> bool:
        """Read what the device kept; True when a sign-in is kept (not yet checked)."""
        self.address = await self._preferences.get(ADDRESS_KEY)
        saved = await self._preferences.get(TOKENS_KEY)
        if self.address is None or saved is None:
            return False
        try:
            tokens = TokenPair.model_validate_json(saved)
        except ValidationError:
            await self._preferences.remove(TOKENS_KEY)
            return False
        self.client = ApiClient(self.address, tokens=tokens, on_tokens=self._keep_tokens)
        return True

    async def resume(self) -> Me:
        """Check the kept sign-in with the server (refreshing it if needed)."""
        assert self.client is not None, "load() found no sign-in"
        self.me = await self.client.me()
        return self.me

    async def sign_in(self, address: str, username: str, password: str) -> Me:
        """Raises the API's errors (unreachable, not ShopGuard, wrong password...)."""
        address = normalise_address(address)
        await check_server(address)
        await self._close_client()
        client = ApiClient(address, on_tokens=self._keep_tokens)
        try:
            tokens = await client.login(username, password)
            if tokens.must_change_password:
                raise NotAllowed(
                    "this is a one-time password: set your own in the web console first"
                )
            self.me = await client.me()
        except BaseException:
            await client.logout()
            await client.aclose()
            raise
        self.client, self.address = client, address
        await self._preferences.set(ADDRESS_KEY, address)
        return self.me

    async def sign_out(self) -> None:
        if self.client is not None:
            for step in self.before_sign_out:  # while still signed in
                await step()
            await self.client.logout()
        await self._close_client()
        self.me = None

    async def change_address(self, address: str) -> None:
        """A new server: the sign-in for the old one ends."""
        address = normalise_address(address)
        await check_server(address)
        await self.sign_out()
        self.address = address
        await self._preferences.set(ADDRESS_KEY, address)

    @property
    def may_review(self) -> bool:
        return self.me is not None and self.me.role in (Role.admin, Role.supervisor)

    @property
    def is_admin(self) -> bool:
        return self.me is not None and self.me.role is Role.admin

    async def _keep_tokens(self, tokens: TokenPair | None) -> None:
        if tokens is None:
            await self._preferences.remove(TOKENS_KEY)
        else:
            await self._preferences.set(TOKENS_KEY, tokens.model_dump_json())

    async def _close_client(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
