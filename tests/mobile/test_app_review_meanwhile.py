"""An alert that changed after the phone showed it: when only the server changed it (its
clip written, the incident grown) the supervisor's tap still saves; when a person reviewed
it meanwhile, the app shows their review and saves nothing over it."""

from __future__ import annotations

from datetime import UTC, datetime

from server.runtime import Runtime
from server.storage.models import Alert
from shared.schemas.alerts import AlertOutcome, AlertStatus, ClipStatus
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, add_alert
from tests.mobile.conftest import Served
from tests.mobile.flet_session import running_app
from tests.mobile.test_app_screens import sign_in
from tests.served import observer


async def change_unannounced(runtime: Runtime, alert_id: int, **fields: object) -> None:
    """Change the stored alert as a writer whose live event has not reached the phone yet."""
    async with runtime.sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None
        for name, value in fields.items():
            setattr(alert, name, value)
        await session.commit()


async def test_a_tap_saves_after_the_server_changed_the_alert_not_after_a_person(
    served: Served,
) -> None:
    runtime, camera = served.runtime, served.world.cameras[0]
    clip_done = (await add_alert(runtime, camera, started_at=datetime.now(UTC))).id
    reviewed = (await add_alert(runtime, camera, started_at=datetime.now(UTC))).id
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)

        await ui.app.open_alert(clip_done)
        detail = ui.app.detail
        assert detail is not None
        await change_unannounced(runtime, clip_done, clip_status=ClipStatus.done.value)
        await ui.click(detail.outcomes[AlertOutcome.confirmed_theft])
        assert detail.result.value == "Saved: Confirmed theft"

        await ui.app.open_alert(reviewed)
        detail = ui.app.detail
        assert detail is not None
        await change_unannounced(
            runtime,
            reviewed,
            status=AlertStatus.reviewed.value,
            outcome=AlertOutcome.false_alarm.value,
            notes="a customer, not a theft",
        )
        await ui.click(detail.outcomes[AlertOutcome.confirmed_theft])
        assert detail.result.value == (
            "Someone else changed this alert meanwhile: check it, then choose."
        )
        assert detail.alert.outcome is AlertOutcome.false_alarm
        assert detail.notes.value == "a customer, not a theft"  # nothing was typed here

    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    saved = await admin.alert(clip_done)
    assert (saved.outcome, saved.clip_status) == (AlertOutcome.confirmed_theft, ClipStatus.done)
    kept = await admin.alert(reviewed)
    assert (kept.outcome, kept.notes) == (AlertOutcome.false_alarm, "a customer, not a theft")
    await admin.aclose()
