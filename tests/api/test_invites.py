"""Pairing by invite through the API: an admin invites (role, stores) and gets a code, a link
and a QR code of the link; the phone redeems the code with its own name and password and is
signed in. A code works once, not after it expires or is revoked, and wrong codes are throttled
like sign-ins. No password is in an invite, and the code itself is never stored."""

import asyncio
import base64
import io
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import zxingcpp
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import update

from server.runtime import Runtime
from server.services.invites import QR_BORDER, QR_SCALE
from server.storage.models import Invite, utcnow
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, World, db_snapshot, error_of

INVITES = "/api/v1/invites"
REDEEM = "/api/v1/invites/redeem"
ME = "/api/v1/auth/me"
PHONE_PASSWORD = "my-own-phone-password"
CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
OTHER_ADDRESS = ("198.51.100.23", 50000)


async def invite(client: httpx.AsyncClient, world: World, **body: Any) -> dict[str, Any]:
    response = await client.post(INVITES, headers=world.headers["admin"], json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def redeem(
    client: httpx.AsyncClient, code: str, username: str, password: str = PHONE_PASSWORD
) -> httpx.Response:
    return await client.post(
        REDEEM, json={"code": code, "username": username, "password": password}
    )


async def listed(client: httpx.AsyncClient, world: World) -> dict[int, dict[str, Any]]:
    response = await client.get(INVITES, headers=world.headers["admin"])
    assert response.status_code == 200, response.text
    return {row["id"]: row for row in response.json()["data"]}


async def audit_actions(client: httpx.AsyncClient, world: World) -> list[tuple[str, str]]:
    """(action, target id) of the invite entries in the audit log, oldest first."""
    response = await client.get(
        "/api/v1/audit", headers=world.headers["admin"], params={"limit": 500}
    )
    assert response.status_code == 200, response.text
    entries = reversed(response.json()["data"])
    return [(e["action"], e["target_id"]) for e in entries if e["action"].startswith("invite.")]


def qr_text(png: bytes) -> tuple[str, tuple[int, int]]:
    """What a phone's camera reads from the QR image, and the image's size."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    found = zxingcpp.read_barcode(image)
    assert found is not None, "no QR code in the image"
    return found.text, image.size


def strings_of(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *strings_of(v)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_of(item)]
    return [str(value)]


async def test_an_invite_signs_a_new_phone_in_with_its_role_and_stores(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    store_a = world.stores[0]
    created = await invite(client, world, role="supervisor", store_ids=[store_a], note="Maria")
    expected: dict[str, Any] = {"role": "supervisor", "store_ids": [store_a], "note": "Maria"}
    expected |= {"status": "pending", "created_by": "admin", "used_by": None, "used_at": None}
    code = created["code"]
    assert CODE.match(code), code
    server = "http://shopguard.test"
    assert created["server"] == server
    assert created["link"] == f"{server}/pair?code={code}&server={quote(server, safe='')}"
    assert created | expected == created
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
        created["created_at"]
    )
    assert lifetime == timedelta(hours=72)

    text, size = qr_text(base64.b64decode(created["qr_png"]))
    assert text == created["link"]
    assert size[0] == size[1] and size[0] % QR_SCALE == 0 and size[0] >= (21 + 2 * QR_BORDER) * 6

    # No password travels in the invite, and the server keeps only a hash of the code.
    assert not [s for s in strings_of(created) if "password" in s.lower()]
    assert ADMIN_PASSWORD not in str(created)
    stored = str(await db_snapshot(runtime))
    assert code not in stored and code.replace("-", "") not in stored

    # The phone types the code as people do: lower case, without the dash.
    response = await redeem(client, code.lower().replace("-", " "), "maria")
    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
        "must_change_password",
    }
    assert pair["must_change_password"] is False
    phone = {"Authorization": f"Bearer {pair['access_token']}"}
    me = (await client.get(ME, headers=phone)).json()
    assert (me["username"], me["role"], me["store_ids"]) == ("maria", "supervisor", [store_a])
    cameras = (await client.get("/api/v1/cameras", headers=phone)).json()["data"]
    assert [c["id"] for c in cameras] == [world.cameras[0]]
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    signed_in = await client.post(
        "/api/v1/auth/login", json={"username": "maria", "password": PHONE_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text

    row = (await listed(client, world))[created["id"]]
    assert (row["status"], row["used_by"]) == ("used", "maria")
    assert row["used_at"] is not None
    invite_id = str(created["id"])
    assert await audit_actions(client, world) == [
        ("invite.create", invite_id),
        ("invite.redeem", invite_id),
    ]


async def test_the_link_opens_the_app_where_the_admin_says(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await invite(client, world, app_url="https://app.example.com/")
    server = quote("http://shopguard.test", safe="")
    assert created["link"] == f"https://app.example.com/pair?code={created['code']}&server={server}"
    assert qr_text(base64.b64decode(created["qr_png"]))[0] == created["link"]


async def test_a_code_works_once(client: httpx.AsyncClient, world: World) -> None:
    code = (await invite(client, world))["code"]
    assert (await redeem(client, code, "first_phone")).status_code == 200
    again = await redeem(client, code, "second_phone")
    assert again.status_code == 409
    assert error_of(again)["code"] == "invite_used"
    assert error_of(again)["message"] == "this invite has been used already: ask for a new one"
    users = (await client.get("/api/v1/users", headers=world.headers["admin"])).json()["data"]
    assert "second_phone" not in {u["username"] for u in users}


async def test_two_phones_racing_for_one_code_make_one_user(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await invite(client, world, role="viewer"))["code"]
    names = [f"racer_{i}" for i in range(4)]
    answers = await asyncio.gather(*(redeem(client, code, name) for name in names))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409], [a.text for a in answers]
    assert {error_of(a)["code"] for a in answers if a.status_code == 409} == {"invite_used"}
    users = (await client.get("/api/v1/users", headers=world.headers["admin"])).json()["data"]
    assert len({u["username"] for u in users} & set(names)) == 1


async def test_an_expired_code_is_refused(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    created = await invite(client, world, expires_in_hours=1)
    async with runtime.sessionmaker() as session:  # an hour and a second later
        await session.execute(
            update(Invite)
            .where(Invite.id == created["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    response = await redeem(client, created["code"], "too_late")
    assert response.status_code == 409
    assert error_of(response)["code"] == "invite_expired"
    assert (await listed(client, world))[created["id"]]["status"] == "expired"


async def test_a_revoked_code_is_refused_and_a_used_one_cannot_be_revoked(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    withdrawn = await invite(client, world, note="changed my mind")
    assert (await client.delete(f"{INVITES}/{withdrawn['id']}", headers=admin)).status_code == 204
    assert (await client.delete(f"{INVITES}/{withdrawn['id']}", headers=admin)).status_code == 204
    response = await redeem(client, withdrawn["code"], "unwanted")
    assert response.status_code == 409
    assert error_of(response)["code"] == "invite_revoked"
    assert (await listed(client, world))[withdrawn["id"]]["status"] == "revoked"

    used = await invite(client, world)
    assert (await redeem(client, used["code"], "kept_user")).status_code == 200
    refused = await client.delete(f"{INVITES}/{used['id']}", headers=admin)
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "invite_used"
    missing = await client.delete(f"{INVITES}/999999", headers=admin)
    assert missing.status_code == 404
    assert await audit_actions(client, world) == [
        ("invite.create", str(withdrawn["id"])),
        ("invite.revoke", str(withdrawn["id"])),  # once: the second revoke changed nothing
        ("invite.create", str(used["id"])),
        ("invite.redeem", str(used["id"])),
    ]


async def test_the_list_shows_each_state_and_filters_by_it(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin = world.headers["admin"]
    pending, used, expired, revoked = [await invite(client, world, note=n) for n in "PUER"]
    assert (await redeem(client, used["code"], "used_it")).status_code == 200
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(Invite).where(Invite.id == expired["id"]).values(expires_at=utcnow())
        )
        await session.commit()
    assert (await client.delete(f"{INVITES}/{revoked['id']}", headers=admin)).status_code == 204
    rows = await listed(client, world)
    assert [(row["note"], row["status"]) for row in rows.values()] == [
        ("R", "revoked"),
        ("E", "expired"),
        ("U", "used"),
        ("P", "pending"),
    ]
    for status, wanted in (
        ("pending", pending),
        ("used", used),
        ("expired", expired),
        ("revoked", revoked),
    ):
        response = await client.get(INVITES, headers=admin, params={"status": status})
        assert [row["id"] for row in response.json()["data"]] == [wanted["id"]], status
    newest = await client.get(INVITES, headers=admin, params={"limit": 1})
    assert [row["id"] for row in newest.json()["data"]] == [revoked["id"]]
    unknown = await client.get(INVITES, headers=admin, params={"status": "lost"})
    assert unknown.status_code == 422


@pytest.mark.parametrize("user", ["viewer_a", "supervisor_a"])
async def test_only_admins_invite(client: httpx.AsyncClient, world: World, user: str) -> None:
    headers = world.headers[user]
    created = await invite(client, world)
    refused = [
        await client.post(INVITES, headers=headers, json={"role": "admin"}),
        await client.get(INVITES, headers=headers),
        await client.delete(f"{INVITES}/{created['id']}", headers=headers),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert {error_of(r)["code"] for r in refused} == {"forbidden"}
    anonymous = await client.post(INVITES, json={"role": "admin"})
    assert anonymous.status_code == 401
    assert (await listed(client, world))[created["id"]]["status"] == "pending"
    assert len(await listed(client, world)) == 1


async def test_wrong_codes_are_refused_then_throttled_like_sign_ins(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    code = (await invite(client, world))["code"]
    wrong = ["AAAA-AAAA", "2345-6789", "ZZZZ-ZZZZ", "K7PM-Q2XD", "nothing"]
    for guess in wrong:  # the guard's lockout_threshold (5) free failures
        response = await redeem(client, guess, "guesser")
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "invite_not_found"
    waited = await redeem(client, code, "guesser")  # even the right code waits now, here
    assert waited.status_code == 429
    assert error_of(waited)["code"] == "too_many_attempts"
    assert int(waited.headers["Retry-After"]) > 0

    transport = httpx.ASGITransport(app=app, client=OTHER_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as other:
        assert (await redeem(other, code, "rightful")).status_code == 200


async def test_a_taken_name_or_a_weak_password_leaves_the_invite_usable(
    client: httpx.AsyncClient, world: World
) -> None:
    code = (await invite(client, world))["code"]
    taken = await redeem(client, code, "viewer_a")
    assert taken.status_code == 409
    assert error_of(taken) == {
        "code": "conflict",
        "message": "username 'viewer_a' is taken",
        "fields": [],
    }
    short = await redeem(client, code, "new_person", password="short")
    assert short.status_code == 422
    assert error_of(short)["fields"][0]["loc"] == ["body", "password"]
    assert (await redeem(client, code, "new_person")).status_code == 200
    # the old users' passwords are untouched
    old = await client.post(
        "/api/v1/auth/login", json={"username": "viewer_a", "password": NEW_PASSWORD}
    )
    assert old.status_code == 200


async def test_bad_invites_are_refused(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    cases = [
        ({"store_ids": [999_999]}, 404, "not_found"),
        ({"expires_in_hours": 0}, 422, "validation_error"),
        ({"expires_in_hours": 24 * 31}, 422, "validation_error"),
        ({"role": "owner"}, 422, "validation_error"),
        ({"app_url": "javascript:alert(1)"}, 422, "validation_error"),
        ({"password": "secret-in-invite"}, 422, "validation_error"),
    ]
    wrong = []
    for body, status, code in cases:
        response = await client.post(INVITES, headers=admin, json=body)
        if response.status_code != status or error_of(response)["code"] != code:
            wrong.append(f"{body}: {response.status_code} {response.text}")
    assert not wrong, "\n".join(wrong)
    assert await listed(client, world) == {}


async def test_an_invites_link_without_a_web_app_opens_a_page_saying_what_to_type(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/pair", params={"code": "K7PM-Q2XD", "server": "http://shop:8000"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "I have an invite" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"  # the code stays here
    assert page.headers["cache-control"] == "no-store"
    script = await client.get("/pair/pair.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert 'get("code")' in script.text and "textContent" in script.text  # text, not HTML
