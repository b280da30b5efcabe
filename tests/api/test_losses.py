"""Loss value: the goods' value recorded at review (stolen, recovered or not, or at risk),
each store's currency, and `GET /stats/losses`: prevented and suffered per store, camera,
month (in the store's zone) and currency, through the real API on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from babel.numbers import list_currencies
from sqlalchemy import select

from server.runtime import Runtime
from server.services.alerts import record_alert
from server.storage import cameras
from server.storage.models import Alert
from shared.schemas.alerts import TEST_EVENT_TYPE
from shared.schemas.money import CURRENCIES
from tests.api.test_alerts import alert_of, audit_rows, review
from tests.api.test_stats_outcomes import add_camera
from tests.helpers import World, add_alert, error_of

LOSSES = "/api/v1/stats/losses"
STORES = "/api/v1/stores"
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


async def stored_goods(runtime: Runtime, alert_id: int) -> tuple[Decimal | None, bool | None]:
    async with runtime.sessionmaker() as session:
        row = (
            await session.execute(
                select(Alert.goods_value, Alert.goods_recovered).where(Alert.id == alert_id)
            )
        ).one()
    return row.goods_value, row.goods_recovered


async def losses(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    query = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    response = await client.get(LOSSES, headers=headers, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(
    prevented: str = "0.00",
    suffered: str = "0.00",
    recovered: str = "0.00",
    at_risk: str = "0.00",
    thefts: int = 0,
    recovered_thefts: int = 0,
    deterred: int = 0,
    unvalued: int = 0,
) -> dict[str, Any]:
    return {
        "prevented": prevented,
        "suffered": suffered,
        "recovered": recovered,
        "at_risk": at_risk,
        "thefts": thefts,
        "recovered_thefts": recovered_thefts,
        "deterred": deterred,
        "unvalued": unvalued,
    }


def month(label: str, **figs: Any) -> dict[str, Any]:
    return {"month": label, **figures(**figs)}


def months(first: int, last: int, **nonzero: dict[str, Any]) -> list[dict[str, Any]]:
    """Months 2026-`first`..`last`, empty but those named `m03=...`."""
    return [
        nonzero.get(f"m{m:02d}", month(f"2026-{m:02d}")) | {"month": f"2026-{m:02d}"}
        for m in range(first, last + 1)
    ]


async def set_store(
    client: httpx.AsyncClient, admin: dict[str, str], store_id: int, **change: str
) -> dict[str, Any]:
    response = await client.patch(f"{STORES}/{store_id}", headers=admin, json=change)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- recording values at review -----------------------------------------------------------


async def test_a_value_is_recorded_with_the_review_changed_and_cleared(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    supervisor, admin = world.headers["supervisor_a"], world.headers["admin"]
    await set_store(client, admin, world.stores[0], currency="EUR")
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    fresh = await alert_of(client, supervisor, alert_id)
    assert (fresh["goods_value"], fresh["goods_recovered"], fresh["currency"]) == (
        None,
        None,
        "EUR",
    )

    # a theft with its value (a number in, a string with two decimals out)
    theft = await review(
        client,
        supervisor,
        alert_id,
        outcome="confirmed_theft",
        goods_value=249.9,
        goods_recovered=False,
        if_version=1,
    )
    assert theft.status_code == 200, theft.text
    body = theft.json()
    assert (body["outcome"], body["goods_value"], body["goods_recovered"]) == (
        "confirmed_theft",
        "249.90",
        False,
    )
    assert (body["currency"], body["version"]) == ("EUR", 2)
    assert await alert_of(client, supervisor, alert_id) == body
    listed = await client.get("/api/v1/alerts", headers=supervisor)
    assert [(a["id"], a["goods_value"], a["currency"]) for a in listed.json()["data"]] == [
        (alert_id, "249.90", "EUR")
    ]
    assert await stored_goods(runtime, alert_id) == (Decimal("249.90"), False)

    # later the goods come back: only the recovery is sent, the outcome is the alert's
    back = await review(client, supervisor, alert_id, goods_recovered=True, if_version=2)
    assert back.status_code == 200, back.text
    assert (back.json()["goods_value"], back.json()["goods_recovered"]) == ("249.90", True)
    assert back.json()["outcome"] == "confirmed_theft"

    # a deterred incident keeps the value (now at risk), not the recovery
    deterred = await review(client, supervisor, alert_id, outcome="deterred")
    assert (deterred.json()["goods_value"], deterred.json()["goods_recovered"]) == (
        "249.90",
        None,
    )
    # a value alone, as a string, corrects it
    corrected = await review(client, supervisor, alert_id, goods_value="80")
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["goods_value"] == "80.00"
    assert corrected.json()["version"] == 5
    # a false alarm takes no value: it is cleared
    false_alarm = await review(client, supervisor, alert_id, outcome="false_alarm")
    assert (false_alarm.json()["goods_value"], false_alarm.json()["goods_recovered"]) == (
        None,
        None,
    )
    assert await stored_goods(runtime, alert_id) == (None, None)
    # a theft again, then null removes the value on purpose
    again = await review(client, supervisor, alert_id, outcome="confirmed_theft", goods_value=12)
    assert again.json()["goods_value"] == "12.00"
    removed = await review(client, supervisor, alert_id, goods_value=None)
    assert removed.status_code == 200, removed.text
    assert removed.json()["goods_value"] is None
    # reopening clears whatever was recorded
    await review(client, supervisor, alert_id, goods_value="5.5", goods_recovered=True)
    reopened = await review(client, admin, alert_id, status="new")
    assert (reopened.json()["goods_value"], reopened.json()["goods_recovered"]) == (None, None)

    # the audit log has each step with its value, and what a new outcome cleared
    log = await audit_rows(client, admin, "alert.review")
    details = [row["details"] for row in reversed(log["data"])]
    assert details == [
        {"outcome": "confirmed_theft", "goods_value": "249.90", "goods_recovered": False},
        {"goods_recovered": True},
        {"outcome": "deterred", "goods_recovered": None},
        {"goods_value": "80.00"},
        {"outcome": "false_alarm", "goods_value": None},
        {"outcome": "confirmed_theft", "goods_value": "12.00"},
        {"goods_value": None},
        {"goods_value": "5.50", "goods_recovered": True},
        {"status": "new", "goods_value": None, "goods_recovered": None},
    ]


REFUSED_VALUES: list[tuple[str, dict[str, Any], int, str]] = [
    # outcomes without a value
    ("supervisor_a", {"outcome": "false_alarm", "goods_value": 10}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "unclear", "goods_value": "10"}, 422, "validation_error"),
    # a deterred incident recovers nothing
    ("supervisor_a", {"outcome": "deterred", "goods_recovered": True}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "false_alarm", "goods_recovered": False}, 422, "validation_error"),
    # not reviewed: no value
    ("supervisor_a", {"status": "acknowledged", "goods_value": 10}, 422, "validation_error"),
    ("supervisor_a", {"status": "new", "goods_recovered": True}, 422, "validation_error"),
    # amounts: negative, three decimals, too large, not a number
    ("supervisor_a", {"outcome": "deterred", "goods_value": -1}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": "12.345"}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": 1e10}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": "NaN"}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": "Infinity"}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": "ten"}, 422, "validation_error"),
    ("supervisor_a", {"outcome": "deterred", "goods_value": True}, 422, "validation_error"),
    (
        "supervisor_a",
        {"outcome": "confirmed_theft", "goods_recovered": "yes"},
        422,
        "validation_error",
    ),
    # the alert is still new: a value alone needs an outcome that takes one
    ("supervisor_a", {"goods_value": 10}, 422, "invalid_request"),
    ("supervisor_a", {"goods_recovered": True}, 422, "invalid_request"),
    ("viewer_a", {"outcome": "deterred", "goods_value": 10}, 403, "forbidden"),  # viewers read
    ("supervisor_b", {"outcome": "deterred", "goods_value": 10}, 404, "not_found"),
]


async def test_refused_values_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    admin = world.headers["admin"]
    before = await alert_of(client, admin, alert_id)
    for who, body, status, code in REFUSED_VALUES:
        response = await review(client, world.headers[who], alert_id, **body)
        assert response.status_code == status, (who, body, response.text)
        assert error_of(response)["code"] == code, (who, body)
        assert await alert_of(client, admin, alert_id) == before, (who, body)
    assert (await audit_rows(client, admin, "alert.review"))["count"] == 0

    # on an alert reviewed as deterred: a recovery, or a false alarm's value, is refused
    deterred = await review(client, admin, alert_id, outcome="deterred", goods_value="30")
    assert deterred.status_code == 200, deterred.text
    recovered = await review(client, admin, alert_id, goods_recovered=True)
    assert recovered.status_code == 422
    assert error_of(recovered) == {
        "code": "invalid_request",
        "message": f"alert {alert_id} is not reviewed as confirmed_theft: goods_recovered "
        "only goes with a confirmed theft",
        "fields": [],
    }
    assert await alert_of(client, admin, alert_id) == deterred.json()
    # the schema's rule names the field
    refused = await review(client, admin, alert_id, outcome="false_alarm", goods_value=1)
    assert error_of(refused)["fields"][0]["msg"] == (
        "Value error, goods_value only goes with outcome confirmed_theft or deterred"
    )
    three_places = await review(client, admin, alert_id, goods_value="1.005")
    assert error_of(three_places)["fields"][0]["loc"] == ["body", "goods_value"]
    assert await alert_of(client, admin, alert_id) == deterred.json()
    # the largest value goes through
    largest = await review(client, admin, alert_id, goods_value="9999999999.99")
    assert largest.json()["goods_value"] == "9999999999.99"
    assert await stored_goods(runtime, alert_id) == (Decimal("9999999999.99"), None)


# --- stores' currency ---------------------------------------------------------------------


async def test_stores_have_a_currency(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    listed = (await client.get(STORES, headers=admin)).json()["data"]
    assert [(s["name"], s["currency"]) for s in listed] == [("Downtown", "USD"), ("Mall", "USD")]
    created = await client.post(STORES, headers=admin, json={"name": "Pier", "currency": "EUR"})
    assert created.status_code == 201, created.text
    assert created.json()["currency"] == "EUR"
    path = f"{STORES}/{created.json()['id']}"
    assert (await set_store(client, admin, created.json()["id"], currency="GBP"))[
        "currency"
    ] == "GBP"
    for body in (
        {"currency": "gbp"},  # capitals only
        {"currency": "EURO"},
        {"currency": "XYZ"},  # three capitals, but no currency
        {"currency": 978},
    ):
        patched = await client.patch(path, headers=admin, json=body)
        assert patched.status_code == 422, (body, patched.text)
        assert error_of(patched)["code"] == "validation_error", body
    unchanged = await client.patch(path, headers=admin, json={"currency": None})  # as elsewhere
    assert unchanged.json()["currency"] == "GBP"
    refused = await client.post(STORES, headers=admin, json={"name": "Quay", "currency": "ABC"})
    assert refused.status_code == 422
    assert "unknown currency 'ABC'" in error_of(refused)["message"]
    assert (await client.get(path, headers=admin)).json()["currency"] == "GBP"
    supervisor = await client.patch(
        f"{STORES}/{world.stores[0]}",
        headers=world.headers["supervisor_a"],
        json={"currency": "EUR"},
    )
    assert supervisor.status_code == 403


def test_every_currency_is_one_babel_knows() -> None:
    assert len(CURRENCIES) > 150
    assert CURRENCIES <= set(list_currencies())
    assert {"EUR", "USD", "GBP", "JPY", "MXN", "CHF"} <= CURRENCIES


# --- losses -------------------------------------------------------------------------------


async def test_losses_per_store_camera_month_and_currency(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    store_a, store_b = world.stores
    cam_a1, cam_b1 = world.cameras
    # A: euros in Madrid; B: dollars in New York; C: euros on the Canary Islands (an hour
    # behind Madrid): one currency, two zones
    await set_store(client, admin, store_a, currency="EUR", timezone="Europe/Madrid")
    await set_store(client, admin, store_b, currency="USD", timezone="America/New_York")
    made = await client.post(
        STORES,
        headers=admin,
        json={"name": "Harbour", "currency": "EUR", "timezone": "Atlantic/Canary"},
    )
    assert made.status_code == 201, made.text
    store_c = made.json()["id"]
    cam_a2 = await add_camera(client, admin, store_a)
    cam_c1 = await add_camera(client, admin, store_c)

    # camera, start (UTC), review, value, recovered
    plan: list[tuple[int, str, str | None, str | None, bool | None]] = [
        (cam_a1, "2026-02-10T10:00", "confirmed_theft", "100.00", True),
        # 23:30 UTC on 31 March: April in Madrid and on the Canaries, March in New York
        (cam_a1, "2026-03-31T23:30", "confirmed_theft", "40.50", False),
        (cam_a2, "2026-03-15T12:00", "deterred", "19.99", None),
        (cam_a2, "2026-03-16T12:00", "confirmed_theft", None, None),  # no value yet
        (cam_a1, "2026-03-17T12:00", "false_alarm", None, None),  # not a loss
        (cam_a1, "2026-03-18T12:00", None, None, None),  # not reviewed
        (cam_b1, "2026-03-31T23:30", "confirmed_theft", "500", True),
        (cam_b1, "2026-04-02T15:00", "deterred", "75.25", None),
        (cam_b1, "2026-05-01T02:00", "confirmed_theft", "60", False),  # 30 April in New York
        (cam_c1, "2026-03-31T23:30", "deterred", "10", None),
        (cam_c1, "2026-06-30T23:30", "confirmed_theft", "30", True),  # 1 July on the Canaries
        (cam_a1, "2025-12-31T12:00", "confirmed_theft", "999", False),  # before the range
    ]
    for camera, start, outcome, value, recovered in plan:
        alert = await add_alert(runtime, camera, started_at=utc(start))
        if outcome is None:
            continue
        body: dict[str, Any] = {"outcome": outcome}
        if value is not None:
            body["goods_value"] = value
        if recovered is not None:
            body["goods_recovered"] = recovered
        reviewer = world.headers["supervisor_a"] if camera in (cam_a1, cam_a2) else admin
        response = await review(client, reviewer, alert.id, **body)
        assert response.status_code == 200, response.text
    # a test alert with a value is left out
    async with runtime.sessionmaker() as session:
        aisle = await cameras.get_camera(session=session, camera_id=cam_a1, store_ids=None)
        test_alert = await record_alert(
            session=session,
            bus=runtime.bus,
            camera=aisle,
            zone="",
            event_type=TEST_EVENT_TYPE,
            score=1.0,
            started_at=utc("2026-03-20T12:00"),
        )
    checked = await review(
        client, admin, test_alert.id, outcome="confirmed_theft", goods_value=1000
    )
    assert checked.status_code == 200, checked.text

    since, until = utc("2026-01-15T00:00"), utc("2026-07-15T00:00")
    result = await losses(client, admin, since=since, until=until)

    assert (result["since"], result["until"]) == ("2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z")
    assert result["timezone"] is None  # each store's own
    euro_a = {
        "m02": month(
            "2026-02", prevented="100.00", recovered="100.00", thefts=1, recovered_thefts=1
        ),
        "m03": month("2026-03", prevented="19.99", at_risk="19.99", deterred=1, unvalued=1),
        "m04": month("2026-04", suffered="40.50", thefts=1),
    }
    dollars = {
        "m03": month(
            "2026-03", prevented="500.00", recovered="500.00", thefts=1, recovered_thefts=1
        ),
        "m04": month(
            "2026-04", prevented="75.25", suffered="60.00", at_risk="75.25", thefts=1, deterred=1
        ),
    }
    euro_c = {
        "m04": month("2026-04", prevented="10.00", at_risk="10.00", deterred=1),
        "m07": month("2026-07", prevented="30.00", recovered="30.00", thefts=1, recovered_thefts=1),
    }
    store_a_figures = figures(
        prevented="119.99",
        suffered="40.50",
        recovered="100.00",
        at_risk="19.99",
        thefts=2,
        recovered_thefts=1,
        deterred=1,
        unvalued=1,
    )
    assert result["per_store"] == [
        {
            "store_id": store_a,
            "name": "Downtown",
            "currency": "EUR",
            "timezone": "Europe/Madrid",
            "per_month": months(1, 7, **euro_a),
            **store_a_figures,
        },
        {
            "store_id": store_c,
            "name": "Harbour",
            "currency": "EUR",
            "timezone": "Atlantic/Canary",
            "per_month": months(1, 7, **euro_c),
            **figures(
                prevented="40.00",
                recovered="30.00",
                at_risk="10.00",
                thefts=1,
                recovered_thefts=1,
                deterred=1,
            ),
        },
        {
            "store_id": store_b,
            "name": "Mall",
            "currency": "USD",
            "timezone": "America/New_York",
            "per_month": months(1, 7, **dollars),
            **figures(
                prevented="575.25",
                suffered="60.00",
                recovered="500.00",
                at_risk="75.25",
                thefts=2,
                recovered_thefts=1,
                deterred=1,
            ),
        },
    ]
    # per currency: the two euro stores together (each in its own months), dollars apart
    assert result["totals"] == [
        {
            "currency": "EUR",
            "per_month": months(
                1,
                7,
                m02=euro_a["m02"],
                m03=euro_a["m03"],
                m04=month(
                    "2026-04",
                    prevented="10.00",
                    suffered="40.50",
                    at_risk="10.00",
                    thefts=1,
                    deterred=1,
                ),
                m07=euro_c["m07"],
            ),
            **figures(
                prevented="159.99",
                suffered="40.50",
                recovered="130.00",
                at_risk="29.99",
                thefts=3,
                recovered_thefts=2,
                deterred=2,
                unvalued=1,
            ),
        },
        {
            "currency": "USD",
            "per_month": months(1, 7, **dollars),
            **{k: v for k, v in result["per_store"][2].items() if k in figures()},
        },
    ]
    assert result["per_camera"] == [
        {
            "camera_id": cam_a1,
            "store_id": store_a,
            "name": "Aisle 1",
            "currency": "EUR",
            **figures(
                prevented="100.00",
                suffered="40.50",
                recovered="100.00",
                thefts=2,
                recovered_thefts=1,
            ),
        },
        {
            "camera_id": cam_b1,
            "store_id": store_b,
            "name": "Aisle 2",
            "currency": "USD",
            **{k: v for k, v in result["per_store"][2].items() if k in figures()},
        },
        {
            "camera_id": cam_a2,
            "store_id": store_a,
            "name": "Back door",
            "currency": "EUR",
            **figures(prevented="19.99", at_risk="19.99", deterred=1, unvalued=1),
        },
        {
            "camera_id": cam_c1,
            "store_id": store_c,
            "name": "Back door",
            "currency": "EUR",
            **figures(
                prevented="40.00",
                recovered="30.00",
                at_risk="10.00",
                thefts=1,
                recovered_thefts=1,
                deterred=1,
            ),
        },
    ]

    # in one zone for all (UTC): 31 March is March everywhere
    in_utc = await losses(client, admin, since=since, until=until, tz="UTC")
    assert in_utc["timezone"] == "UTC"
    assert {s["timezone"] for s in in_utc["per_store"]} == {"UTC"}
    euro_utc = next(t for t in in_utc["totals"] if t["currency"] == "EUR")
    assert [(m["month"], m["prevented"], m["suffered"]) for m in euro_utc["per_month"]] == [
        ("2026-01", "0.00", "0.00"),
        ("2026-02", "100.00", "0.00"),
        ("2026-03", "29.99", "40.50"),
        ("2026-04", "0.00", "0.00"),
        ("2026-05", "0.00", "0.00"),
        ("2026-06", "30.00", "0.00"),
        ("2026-07", "0.00", "0.00"),
    ]
    assert (euro_utc["prevented"], euro_utc["suffered"]) == ("159.99", "40.50")

    # a supervisor of store A sees store A only, whatever is asked
    mine = await losses(client, world.headers["supervisor_a"], since=since, until=until)
    assert [s["store_id"] for s in mine["per_store"]] == [store_a]
    assert mine["per_store"][0] == result["per_store"][0]
    assert mine["totals"] == [
        {"currency": "EUR", "per_month": months(1, 7, **euro_a), **store_a_figures}
    ]
    assert [c["camera_id"] for c in mine["per_camera"]] == [cam_a1, cam_a2]
    for other in ({"store_id": store_b}, {"camera_id": cam_b1}):
        nothing = await losses(
            client, world.headers["supervisor_a"], since=since, until=until, **other
        )
        assert (nothing["totals"], nothing["per_store"], nothing["per_camera"]) == ([], [], [])
    viewer = await losses(client, world.headers["viewer_b"], since=since, until=until)
    assert [t["currency"] for t in viewer["totals"]] == ["USD"]

    # filters: one store, one camera
    only_c = await losses(client, admin, since=since, until=until, store_id=store_c)
    assert [t["currency"] for t in only_c["totals"]] == ["EUR"]
    assert only_c["totals"][0]["prevented"] == "40.00"
    one_camera = await losses(client, admin, since=since, until=until, camera_id=cam_a2)
    assert [s["store_id"] for s in one_camera["per_store"]] == [store_a]
    assert one_camera["per_store"][0]["prevented"] == "19.99"
    assert [c["camera_id"] for c in one_camera["per_camera"]] == [cam_a2]


async def test_losses_default_to_this_month_and_the_eleven_before(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    await set_store(client, admin, world.stores[0], currency="EUR", timezone="Asia/Tokyo")
    await set_store(client, admin, world.stores[1], currency="EUR", timezone="Asia/Tokyo")
    now = datetime.now(UTC)
    recent = await add_alert(runtime, world.cameras[0], started_at=now - timedelta(days=2))
    old = await add_alert(runtime, world.cameras[0], started_at=now - timedelta(days=400))
    for alert_id in (recent.id, old.id):
        response = await review(
            client, admin, alert_id, outcome="confirmed_theft", goods_value="12.34"
        )
        assert response.status_code == 200, response.text

    result = await losses(client, admin)
    tokyo_now = now.astimezone(TOKYO)
    # from the first of the month 11 months back, at midnight in the stores' zone
    since = datetime.fromisoformat(result["since"]).astimezone(TOKYO)
    first = tokyo_now.year * 12 + tokyo_now.month - 1 - 11
    assert (since.year, since.month, since.day) == (first // 12, first % 12 + 1, 1)
    assert (since.hour, since.minute, since.second) == (0, 0, 0)
    assert now <= datetime.fromisoformat(result["until"]) <= datetime.now(UTC)
    labels = [m["month"] for m in result["per_store"][0]["per_month"]]
    assert len(labels) == 12
    assert labels[-1] == f"{tokyo_now.year:04d}-{tokyo_now.month:02d}"
    # only the recent theft counts
    assert result["totals"][0]["suffered"] == "12.34"
    assert result["totals"][0]["thefts"] == 1


BAD_RANGES: list[tuple[dict[str, str], str]] = [
    ({"since": "2026-03-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "before"),
    ({"since": "2025-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "366 days"),
    ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ({"until": "0001-02-01T00:00:00Z"}, "too early"),  # 12 months back is before year 1
    # the calendar's first months in New York are before year 1
    (
        {
            "since": "0001-01-01T00:00:00Z",
            "until": "0001-03-01T00:00:00Z",
            "tz": "America/New_York",
        },
        "out of range",
    ),
]


async def test_bad_ranges_are_422(client: httpx.AsyncClient, world: World) -> None:
    for params, words in BAD_RANGES:
        response = await client.get(LOSSES, headers=world.headers["admin"], params=params)
        assert response.status_code == 422, (params, response.text)
        assert error_of(response)["code"] == "invalid_request", params
        assert words in error_of(response)["message"], params


async def test_losses_need_a_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(LOSSES)
    assert response.status_code == 401
