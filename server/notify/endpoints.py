"""Where pushes may go. A Web Push endpoint is a URL that any signed-in user hands the
server, and the server POSTs to it: unchecked, a viewer could make the server call its own
network (the database, a cloud's metadata service, an admin page on 127.0.0.1). So
endpoints are held to https on public hosts: not http, not loopback, private, link-local,
shared (CGNAT), multicast, reserved or unspecified addresses, nor a name that resolves to
one. The FCM and APNs addresses, settings meant for tests and relays, are held to the same.

An endpoint is checked when a device is registered (a clear 422) and again at each send,
since what a name resolves to can change; a send connects to the address it checked, so a
second look-up cannot be answered differently. `push.allow_private_endpoints` lets http
and private addresses through, for tests and push services on a private network.

Look-ups run on a few threads of their own, never on asyncio's default executor, which
other work (snapshots, files) shares.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOKUP_THREADS = 4
REGISTRATION_LOOKUP_S = 3.0  # a registration waits this long for DNS, then lets it through
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses reached through NAT64


class EndpointRefused(Exception):
    """The server may not send there; the message says why, for the person who asked."""


def is_public(address: Address) -> bool:
    """Whether `address` is on the public internet. IPv4 addresses inside IPv6 ones
    (mapped, 6to4, NAT64) are judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not is_public(inner):
            return False
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> Address | None:
    """The address if `host` is written as one (not a name)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed endpoint URL: `host` as DNS and TLS take it (IDNA), `port` filled in."""

    url: httpx.URL
    host: str
    port: int

    @property
    def netloc(self) -> str:
        """host[:port] as written in the URL: the Host header."""
        return self.url.netloc.decode("ascii")


class EndpointPolicy:
    """Checks endpoints (see the module's docstring); owns its look-up threads (`close`)."""

    def __init__(self, *, allow_private: bool, threads: int = LOOKUP_THREADS) -> None:
        self.allow_private = allow_private
        self._lookups = ThreadPoolExecutor(threads, thread_name_prefix="push-lookup")

    def parse(self, url: str) -> Endpoint:
        """The endpoint, if its scheme and (where written as an address) its host may be
        sent to.

        Raises:
            EndpointRefused: not a URL, not https, or an address that is not public.
        """
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise EndpointRefused(f"not a URL: {exc}") from exc
        schemes = ("https", "http") if self.allow_private else ("https",)
        if parsed.scheme not in schemes:
            raise EndpointRefused(f"must be an https URL, not {parsed.scheme or 'relative'}")
        host = parsed.raw_host.decode("ascii")
        if not host:
            raise EndpointRefused("has no host")
        if (address := literal_address(host)) is not None:
            self._check(host, address)
        default_port = 443 if parsed.scheme == "https" else 80
        return Endpoint(url=parsed, host=host, port=parsed.port or default_port)

    async def resolve(self, endpoint: Endpoint) -> Address:
        """The address to connect to: every address the host has must be allowed.

        Raises:
            EndpointRefused: the host resolves to an address that is not public, or is no
                valid name.
            OSError: the host does not resolve (for now).
        """
        addresses = await self._addresses(endpoint)
        for address in addresses:
            self._check(endpoint.host, address)
        return addresses[0]

    async def vet(self, url: str) -> Endpoint:
        """At registration: refuse what a send would refuse. A name that does not resolve
        within `REGISTRATION_LOOKUP_S` is let through (DNS may be down); each send checks
        again.

        Raises:
            EndpointRefused: as `parse` and `resolve`.
        """
        endpoint = self.parse(url)
        try:
            async with asyncio.timeout(REGISTRATION_LOOKUP_S):
                await self.resolve(endpoint)
        except (OSError, TimeoutError):
            pass
        return endpoint

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)

    async def _addresses(self, endpoint: Endpoint) -> list[Address]:
        if (address := literal_address(endpoint.host)) is not None:
            return [address]
        lookup = functools.partial(
            socket.getaddrinfo, endpoint.host, endpoint.port, type=socket.SOCK_STREAM
        )
        try:
            found = await asyncio.get_running_loop().run_in_executor(self._lookups, lookup)
        except UnicodeError as exc:  # a label too long for DNS
            raise EndpointRefused(f"{endpoint.host} is not a valid host name") from exc
        # an IPv6 link-local answer carries its interface ("fe80::1%eth0")
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]

    def _check(self, host: str, address: Address) -> None:
        if self.allow_private or is_public(address):
            return
        where = host if literal_address(host) == address else f"{host} (at {address})"
        raise EndpointRefused(f"{where} is not a public address")
