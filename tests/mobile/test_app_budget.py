"""The alert budget in the app against the real server: an admin sets the alerts a day per
camera in Settings, sees each camera's threshold in force and the alerts a day it gives (a
camera with recorded scores, and one still learning), and gives one camera its own budget."""

from __future__ import annotations

import pytest

from mobile.ui.camera_form import CameraForm
from server.alerting.budget import alert_curve
from tests.alerting.recorded_peaks import seed_recording
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import running_app
from tests.mobile.test_app_settings import admin_section, server_cameras

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WINDOW_S = 300.0


async def test_an_admin_sees_and_sets_alert_budgets(served: Served) -> None:
    aisle_1, aisle_2 = served.world.cameras
    runtime = served.server.runtime
    facts = runtime.thresholds.facts
    assert facts is not None
    curve = alert_curve(await seed_recording(runtime, aisle_1), WINDOW_S, facts.floor)
    three_t, _ = curve.threshold_for(3.0)
    one_t, _ = curve.threshold_for(1.0)
    async with running_app() as ui:
        admin = await admin_section(ui, served)
        settings = ui.app.settings
        ui.type(settings.budget, "0")
        await ui.click(settings.save)
        assert settings.saved.value == (f"{settings.budget.label}: Input should be greater than 0")
        ui.type(settings.budget, "3")
        await ui.click(settings.save)
        assert settings.saved.value == "Saved"
        # the recorded camera: its threshold from the budget; the other one still learning
        await until(lambda: ui.shows(f"Threshold {round(three_t, 3):g} from a budget of 3 a day"))
        assert ui.shows(f"Threshold {round(three_t, 3):g} from a budget of 3 a day, about 3.0")
        assert ui.shows(
            f"Learning this camera's scores (0 of 1 day): threshold {round(facts.threshold, 3):g}"
            " until a budget of 3 a day sets it"
        )
        client = ui.app.account.client
        assert client is not None
        assert (await client.settings()).detection.alert_budget_per_day == 3.0

        await ui.click(admin.camera_rows[aisle_1].edit)
        form = admin.form
        assert isinstance(form, CameraForm)
        assert form.budget.value == "" and form.in_force.value.startswith(
            f"Threshold {round(three_t, 3):g} from a budget of 3 a day"
        )
        ui.type(form.budget, "-1")
        await ui.click(form.save)
        assert form.result.value == "Alerts a day: Input should be greater than 0"
        ui.type(form.budget, "1")
        await ui.click(form.save)
        await until(lambda: admin.form is None)
        await until(lambda: ui.shows(f"Threshold {round(one_t, 3):g} from a budget of 1 a day"))
        assert ui.shows("a budget of 1 a day, about 0.0 alerts a day")
        saved = (await server_cameras(served))["Aisle 1"]
        assert (saved["alert_budget_per_day"], saved["threshold_source"]) == (1.0, "budget")
        assert aisle_2 in admin.camera_rows
