"""Loss value in the app, in a real Flet session against the real server: a supervisor
records the goods' value with the review (in the store's currency, typed the way the
language writes numbers, and whether stolen goods were got back), and Stats adds the values
up as losses prevented and suffered, per currency, month and store."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import flet as ft
import flet_charts as fch
import httpx
import pytest
from flet.controls.base_control import BaseControl

from mobile.app import ALERTS, STATS
from mobile.ui import losses
from mobile.ui.alert_detail import GOODS_FACT, AlertDetail
from mobile.ui.losses import month_label
from mobile.ui.stats import MONTH, StatsScreen
from shared.schemas.alerts import AlertOutcome
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, add_alert, login
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_screens import sign_in
from tests.mobile.test_app_stats import texts, walk
from tests.served import observer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def tagged(root: Any, identifier: str) -> ft.Semantics | None:
    return next(
        (c for c in walk(root) if isinstance(c, ft.Semantics) and c.identifier == identifier),
        None,
    )


def whole(amount: Decimal) -> int:
    """An amount to whole units as a bar's height: 40.50 is 41."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def shown(root: Any, control: BaseControl) -> bool:
    return any(c is control for c in walk(root))


async def set_store(served: Served, store_id: int, **change: str) -> None:
    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        admin = await login(http, "admin", ADMIN_PASSWORD)
        response = await http.patch(f"/api/v1/stores/{store_id}", headers=admin, json=change)
        assert response.status_code == 200, response.text


async def open_detail(ui: AppUnderTest, alert_id: int) -> AlertDetail:
    await ui.app.show_tab(ALERTS)
    await until(lambda: ui.app.book.get(alert_id) is not None)
    await ui.app.open_alert(alert_id)
    detail = ui.app.detail
    assert detail is not None
    return detail


async def test_a_supervisor_records_the_goods_value_with_the_review(served: Served) -> None:
    await set_store(served, served.world.stores[0], currency="EUR")
    alert = await add_alert(
        served.runtime, served.world.cameras[0], started_at=datetime.now(UTC) - timedelta(hours=1)
    )
    async with contextlib.aclosing(observer(served)) as admin, running_app() as ui:
        await admin.login("admin", ADMIN_PASSWORD)
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        detail = await open_detail(ui, alert.id)
        assert detail.currency == "EUR"
        assert not shown(detail.control, detail.goods_value)  # no outcome yet: no value

        # a theft: the value (in euros) and the recovery appear, saved with the review
        await ui.click(detail.outcomes[AlertOutcome.confirmed_theft])
        assert detail.result.value == "Saved: Confirmed theft"
        assert shown(detail.control, detail.goods_value) and shown(detail.control, detail.recovered)
        assert (detail.goods_value.label, detail.goods_value.suffix) == (
            "Value of the stolen goods",
            "EUR",
        )
        ui.type(detail.goods_value, "249.9")
        await ui.click(detail.save_goods)
        assert detail.result.value == "Saved: the goods' value"
        stored = await admin.alert(alert.id)
        assert (stored.goods_value, stored.goods_recovered) == (Decimal("249.90"), False)
        assert detail.goods_value.value == "249.90"
        fact = tagged(detail.control, GOODS_FACT)
        assert fact is not None and texts(fact) == ["Stolen goods: €249.90, not recovered"]

        # the goods came back
        await ui.toggle(detail.recovered, True)
        await ui.click(detail.save_goods)
        assert (await admin.alert(alert.id)).goods_recovered is True
        assert ui.shows("Stolen goods: €249.90, recovered")

        # a value the server would refuse is explained at the field, and nothing is sent
        version = (await admin.alert(alert.id)).version
        for typed, problem in (
            ("12.345", "The value takes at most two decimals."),
            ("-5", "Type the value as a number, such as 249.90."),
            ("lots", "Type the value as a number, such as 249.90."),
            ("99999999999", "That value is too large."),
        ):
            ui.type(detail.goods_value, typed)
            await ui.click(detail.save_goods)
            assert detail.goods_value.error == problem, typed
        assert (await admin.alert(alert.id)).version == version

        # deterred, with a value typed: one step; no recovery for a deterred incident
        ui.type(detail.goods_value, "80")
        await ui.click(detail.outcomes[AlertOutcome.deterred])
        assert detail.result.value == "Saved: Deterred"
        assert detail.goods_value.error is None
        stored = await admin.alert(alert.id)
        assert (stored.outcome, stored.goods_value, stored.goods_recovered) == (
            AlertOutcome.deterred,
            Decimal("80.00"),
            None,
        )
        assert stored.version == version + 1
        assert detail.goods_value.label == "Value of the goods at risk"
        assert not shown(detail.control, detail.recovered)
        assert ui.shows("Goods at risk: €80.00")

        # an empty field removes the value
        ui.type(detail.goods_value, "")
        await ui.click(detail.save_goods)
        assert (await admin.alert(alert.id)).goods_value is None
        assert tagged(detail.control, GOODS_FACT) is None

        # a false alarm takes no value: the field goes
        ui.type(detail.goods_value, "15")
        await ui.click(detail.save_goods)
        await ui.click(detail.outcomes[AlertOutcome.false_alarm])
        assert not shown(detail.control, detail.goods_value)
        assert (await admin.alert(alert.id)).goods_value is None
        assert not ui.shows("Goods at risk")


async def test_in_spanish_the_value_takes_a_decimal_comma(served: Served) -> None:
    await set_store(served, served.world.stores[0], currency="EUR")
    alert = await add_alert(
        served.runtime, served.world.cameras[0], started_at=datetime.now(UTC) - timedelta(hours=1)
    )
    async with (
        contextlib.aclosing(observer(served)) as admin,
        running_app(device_locale="es-ES") as ui,
    ):
        await admin.login("admin", ADMIN_PASSWORD)
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        detail = await open_detail(ui, alert.id)
        await ui.click(detail.outcomes[AlertOutcome.confirmed_theft])
        assert detail.goods_value.label == "Valor de los artículos robados"
        ui.type(detail.goods_value, "1234,5")
        await ui.click(detail.save_goods)
        assert (await admin.alert(alert.id)).goods_value == Decimal("1234.50")
        assert detail.goods_value.value == "1234,50"
        fact = tagged(detail.control, GOODS_FACT)
        assert fact is not None
        assert texts(fact) == ["Artículos robados: 1.234,50\xa0€, no recuperados"]


async def test_stats_add_up_losses_per_currency_month_and_store(served: Served) -> None:
    store_a, store_b = served.world.stores
    cam_a, cam_b = served.world.cameras
    await set_store(served, store_a, currency="EUR", timezone="Europe/Madrid")
    await set_store(served, store_b, currency="USD", timezone="Europe/Madrid")
    now = datetime.now(UTC)
    plan = [  # camera, days ago, outcome, value, recovered
        (cam_a, 1, "confirmed_theft", "100.00", True),
        (cam_a, 2, "confirmed_theft", "40.50", False),
        (cam_a, 3, "deterred", "19.99", None),
        (cam_a, 4, "confirmed_theft", None, None),  # no value yet
        (cam_b, 1, "confirmed_theft", "500", False),
        (cam_a, 45, "deterred", "1000", None),  # before the range
    ]
    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        admin = await login(http, "admin", ADMIN_PASSWORD)
        for camera, days_ago, outcome, value, recovered in plan:
            alert = await add_alert(
                served.runtime, camera, started_at=now - timedelta(days=days_ago)
            )
            body: dict[str, Any] = {"outcome": outcome}
            if value is not None:
                body |= {"goods_value": value, "goods_recovered": recovered}
            if outcome == "deterred":
                body.pop("goods_recovered", None)
            response = await http.patch(f"/api/v1/alerts/{alert.id}", headers=admin, json=body)
            assert response.status_code == 200, response.text

    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        screen: StatsScreen = ui.app.stats
        await ui.app.show_tab(STATS)
        await until(lambda: screen.losses is not None)
        await ui.select(screen.range, MONTH)
        await until(lambda: screen.range.value == MONTH and screen.losses is not None)
        result = screen.losses
        assert result is not None and result.timezone == "Europe/Madrid"
        part = tagged(screen.control, losses.LOSSES)
        assert part is not None

        euros = tagged(part, losses.loss_totals("EUR"))
        assert euros is not None
        assert texts(euros) == [
            "€119.99",
            "prevented",
            "1 deterred · 1 recovered",
            "€40.50",
            "lost",
            "1 theft not recovered",
        ]
        dollars = tagged(part, losses.loss_totals("USD"))
        assert dollars is not None
        assert texts(dollars) == [
            "$0.00",
            "prevented",
            "0 deterred · 0 recovered",
            "$500.00",
            "lost",
            "1 theft not recovered",
        ]
        # one chart per currency, a bar per month of the range stacked prevented, lost
        months = [m.month for m in result.totals[0].per_month]
        assert len(months) in (1, 2)  # the last 30 days touch one or two months
        chart = tagged(part, losses.loss_months("EUR"))
        assert chart is not None
        bars = next(c for c in walk(chart) if isinstance(c, fch.BarChart))
        assert [g.rods[0].to_y for g in bars.groups] == [
            whole(m.prevented) + whole(m.suffered) for m in result.totals[0].per_month
        ]
        assert sum(g.rods[0].to_y for g in bars.groups) in (160, 161, 162)  # whole euros
        bottom = bars.bottom_axis
        assert bottom is not None
        assert [str(label.label.value) for label in bottom.labels] == [
            month_label(m) for m in months
        ]
        assert ui.shows("1 incident has no value yet: add it in the alert.")
        # per store, in its own currency
        downtown = tagged(part, losses.loss_store(store_a))
        mall = tagged(part, losses.loss_store(store_b))
        assert downtown is not None and mall is not None
        assert texts(downtown) == ["Downtown", "Prevented: €119.99", "Lost: €40.50"]
        assert texts(mall) == ["Mall", "Prevented: $0.00", "Lost: $500.00"]

    # a store's supervisor sees their store's losses only
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_b", NEW_PASSWORD)
        screen = ui.app.stats
        await ui.app.show_tab(STATS)
        await until(lambda: screen.losses is not None)
        part = tagged(screen.control, losses.LOSSES)
        assert part is not None
        assert tagged(part, losses.loss_totals("EUR")) is None
        assert tagged(part, losses.loss_store(store_a)) is None
        mall = tagged(part, losses.loss_store(store_b))
        assert mall is not None and texts(mall) == ["Mall", "Prevented: $0.00", "Lost: $500.00"]


async def test_stats_without_values_say_so(served: Served) -> None:
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        screen = ui.app.stats
        await ui.app.show_tab(STATS)
        await until(lambda: screen.losses is not None)
        part = tagged(screen.control, losses.LOSSES)
        assert part is not None
        assert texts(part) == ["Losses", "No goods' values recorded in this range."]
