"""Push on phones through the flet_push extension, its Python side in a real Flet session
against the real server: the phone's FCM token registered on sign-in (the control asks the
client for the permission and the token), renewed when FCM replaces it, removed on
sign-out; a tapped notification opening its alert; the token source only on Android and
iOS builds; the Firebase options read from the project's files. And the build wiring:
`flet build apk|ipa` (which cannot run here) finds the extension where infra/app says, as
one package whose names agree on the Python and the Dart side."""

from __future__ import annotations

import asyncio
import json
import plistlib
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft
import pytest
import yaml
from flet.messaging.protocol import InvokeMethodRequestBody, Message, MessageAction
from flet_push import FirebaseMessaging, FirebaseOptions
from flet_push.options import FirebaseConfigError

from mobile.api.client import ApiClient
from mobile.state.preferences import MemoryPreferences
from mobile.state.push import DEVICE_KEY, FirebaseTokens, platform_tokens
from shared.schemas.devices import PushPlatform
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_settings import open_settings
from tests.served import observer

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "mobile" / "extensions" / "flet_push"
DART = EXTENSION / "src" / "flutter" / "flet_push"
APP = ROOT / "infra" / "app" / "pyproject.toml"
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]

# What the Firebase console hands out for an app (made-up project, the files' real shape)
GOOGLE_SERVICES = {
    "project_info": {
        "project_number": "123456789012",
        "project_id": "shopguard-test",
        "storage_bucket": "shopguard-test.appspot.com",
    },
    "client": [
        {
            "client_info": {
                "mobilesdk_app_id": "1:123456789012:android:0a1b2c3d4e5f6a7b",
                "android_client_info": {"package_name": "org.shopguard.shopguard_app"},
            },
            "oauth_client": [],
            "api_key": [{"current_key": "AIzaSyTest-android-key-000000000000000"}],
            "services": {"appinvite_service": {"other_platform_oauth_client": []}},
        }
    ],
    "configuration_version": "1",
}
SERVICE_INFO = {
    "API_KEY": "AIzaSyTest-ios-key-0000000000000000000",
    "GCM_SENDER_ID": "123456789012",
    "PLIST_VERSION": "1",
    "BUNDLE_ID": "org.shopguard.shopguard-app",
    "PROJECT_ID": "shopguard-test",
    "GOOGLE_APP_ID": "1:123456789012:ios:0a1b2c3d4e5f6a7b",
}


class Phone:
    """The phone's side of the session where the test needs it: flet_push's Dart service
    answers the control's methods as FlutterFire would (the user's answer, the token), and
    Flet's client follows a pushed route (the new route, then `route_change`)."""

    def __init__(self, ui: AppUnderTest, token: str, permission: str = "authorized") -> None:
        self.ui, self.token, self.permission = ui, token, permission
        self.routes: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        ui.connection.page_url = "http://localhost"  # where a client says it runs
        sent = ui.connection.send_message

        def send(message: Message) -> None:
            sent(message)
            if message.action == MessageAction.INVOKE_METHOD:
                ui.connection.loop.call_soon(self._answer, message.body)

        ui.connection.send_message = send  # type: ignore[method-assign]

    def _answer(self, call: InvokeMethodRequestBody) -> None:
        result: Any = None
        if call.name == "request_permission":
            result = self.permission
        elif call.name == "get_token":
            result = self.token
        elif call.name == "push_route":
            self.routes.append(call.args["route"])
            task = asyncio.create_task(self._follow(call.args["route"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            return  # not the phone's to answer here
        self.ui.session.handle_invoke_method_results(call.control_id, call.call_id, result, None)

    async def _follow(self, route: str) -> None:
        self.ui.session.apply_page_patch({"route": route})
        await self.ui.session.dispatch_event(self.ui.page._i, "route_change", {"route": route})

    async def tap(self, messaging: FirebaseMessaging, data: dict[str, str]) -> None:
        """The user taps a notification carrying `data`: the extension's event."""
        alert_id = int(data["alert_id"]) if "alert_id" in data else None
        event = {"alert_id": alert_id, "data": data}
        await self.ui.session.dispatch_event(messaging._i, "notification_opened", event)


def firebase_files(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "google-services.json").write_text(json.dumps(GOOGLE_SERVICES))
    (folder / "GoogleService-Info.plist").write_bytes(plistlib.dumps(SERVICE_INFO))
    return folder


async def devices(served: Served, user: str) -> list[tuple[int, PushPlatform, str]]:
    client = ApiClient(served.address)
    await client.login(user, NEW_PASSWORD)
    found = [(d.id, d.platform, d.name) for d in (await client.devices()).data]
    await client.aclose()
    return found


@on_sqlite
async def test_the_phone_registers_its_token_renews_it_and_removes_it_on_sign_out(
    served: Served, tmp_path: Path
) -> None:
    preferences = MemoryPreferences()
    tokens = FirebaseTokens(ft.PagePlatform.ANDROID, firebase_files(tmp_path / "firebase"))
    async with running_app(preferences, push_tokens=tokens) as ui:
        phone = Phone(ui, token="fcm-token-of-this-phone-0001")
        await open_settings(ui, served, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.app.push.device is not None)
        messaging = tokens.messaging()
        assert ui.invoked(messaging) == ["request_permission", "get_token"]  # asked of Dart
        # Firebase is set up from the project's google-services.json, shipped with the app
        assert (messaging.api_key, messaging.app_id, messaging.messaging_sender_id) == (
            "AIzaSyTest-android-key-000000000000000",
            "1:123456789012:android:0a1b2c3d4e5f6a7b",
            "123456789012",
        )
        assert messaging.project_id == "shopguard-test" and messaging.ios_bundle_id is None
        ((first, platform, name),) = await devices(served, "supervisor_a")
        assert (platform, name) == (PushPlatform.fcm, "ShopGuard app (android)")
        assert preferences.values[DEVICE_KEY] == str(first)

        phone.token = "fcm-token-of-this-phone-0002"  # FCM replaced it
        event = {"token": phone.token}
        await ui.session.dispatch_event(messaging._i, "token_refresh", event)
        await until(lambda: ui.app.push.device is not None and ui.app.push.device.id != first)
        ((second, _, _),) = await devices(served, "supervisor_a")  # the old one is gone
        assert second != first and preferences.values[DEVICE_KEY] == str(second)

        await ui.click(ui.app.settings.sign_out)
        await until(lambda: ui.app.login is not None)
    assert await devices(served, "supervisor_a") == []  # no more of her alerts here
    assert DEVICE_KEY not in preferences.values


@on_sqlite
async def test_a_tapped_notification_opens_its_alert(served: Served, tmp_path: Path) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    alert = await admin.send_test_alert(served.world.cameras[0])
    await admin.aclose()
    tokens = FirebaseTokens(ft.PagePlatform.ANDROID, tmp_path / "no-firebase-files")
    async with running_app(push_tokens=tokens) as ui:
        phone = Phone(ui, token="fcm-token-of-this-phone-0003")
        await open_settings(ui, served, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.app.push.device is not None)
        messaging = tokens.messaging()
        assert messaging.api_key is None  # no files: Firebase reads the native config
        await phone.tap(messaging, {"title": "Possible concealment", "body": "zone Shelf 2"})
        assert phone.routes == [] and ui.app.detail is None  # no alert in it: nothing opens

        await phone.tap(messaging, {"alert_id": str(alert.id), "camera_id": "1"})
        assert phone.routes == [f"/alerts/{alert.id}"]
        assert "push_route" in ui.invoked(ui.page)
        await until(lambda: ui.app.detail is not None)
        assert ui.app.detail is not None and ui.app.detail.alert.id == alert.id
        assert ui.page.route == f"/alerts/{alert.id}"


@on_sqlite
async def test_a_phone_whose_user_refuses_notifications_is_not_registered(
    served: Served, tmp_path: Path
) -> None:
    tokens = FirebaseTokens(ft.PagePlatform.IOS, tmp_path / "none")
    async with running_app(push_tokens=tokens) as ui:
        Phone(ui, token="never-asked-for-0004", permission="denied")
        await open_settings(ui, served, "viewer_a", NEW_PASSWORD)
        await until(lambda: ui.app.push.problem is not None)
        assert ui.invoked(tokens.messaging()) == ["request_permission"]  # no token asked
        assert ui.shows("not registered for pushes: pushes are not allowed on this device")
    assert await devices(served, "viewer_a") == []


async def test_only_android_and_ios_builds_have_the_token_source() -> None:
    async with running_app() as ui:
        assert platform_tokens(ui.page) is None  # the web app: the server's Web Push page
        ui.session.apply_page_patch({"web": False})
        android = platform_tokens(ui.page)
        assert isinstance(android, FirebaseTokens) and android.platform is PushPlatform.fcm
        ui.session.apply_page_patch({"platform": "ios"})
        assert isinstance(platform_tokens(ui.page), FirebaseTokens)  # FCM on iOS too
        ui.session.apply_page_patch({"platform": "linux"})
        assert platform_tokens(ui.page) is None  # desktops: no push


def test_firebase_options_come_from_the_projects_files(tmp_path: Path) -> None:
    android = FirebaseOptions.from_google_services(json.dumps(GOOGLE_SERVICES))
    assert android == FirebaseOptions(
        api_key="AIzaSyTest-android-key-000000000000000",
        app_id="1:123456789012:android:0a1b2c3d4e5f6a7b",
        messaging_sender_id="123456789012",
        project_id="shopguard-test",
    )
    named = FirebaseOptions.from_google_services(
        json.dumps(GOOGLE_SERVICES), package_name="org.shopguard.shopguard_app"
    )
    assert named == android
    ios = FirebaseOptions.from_service_info_plist(plistlib.dumps(SERVICE_INFO))
    assert (ios.app_id, ios.ios_bundle_id) == (
        "1:123456789012:ios:0a1b2c3d4e5f6a7b",
        "org.shopguard.shopguard-app",
    )
    cases: list[tuple[Callable[[], FirebaseOptions], str]] = [  # each bad file says why
        (lambda: FirebaseOptions.from_google_services("{}"), "not a google-services.json"),
        (
            lambda: FirebaseOptions.from_google_services(
                json.dumps(GOOGLE_SERVICES), package_name="com.other.app"
            ),
            "has 0 Android apps for com.other.app, not one",
        ),
        (
            lambda: FirebaseOptions.from_service_info_plist(plistlib.dumps({"API_KEY": "k"})),
            "GoogleService-Info.plist lacks 'GOOGLE_APP_ID'",
        ),
        (lambda: FirebaseOptions.from_service_info_plist(b"<html>"), "not a GoogleService"),
    ]
    for read, message in cases:
        with pytest.raises(FirebaseConfigError, match=re.escape(message)):
            read()


def test_flet_build_finds_the_extension_as_infra_app_declares_it(tmp_path: Path) -> None:
    """What `flet build apk|ipa` reads from infra/app/pyproject.toml (staged in
    build/app-src), and the wheel it installs from the extension's folder: serious_python
    copies site-packages/flutter/* into the Flutter app as Flet extensions."""
    flet = tomllib.loads(APP.read_text())["tool"]["flet"]
    package = tomllib.loads((EXTENSION / "pyproject.toml").read_text())["project"]
    name = package["name"]
    staged = ROOT / "build" / "app-src"  # where build_app.sh runs `flet build`
    assert (staged / flet["dev_packages"][name]).resolve() == EXTENSION
    for platform in ("android", "ios"):
        assert flet[platform]["dependencies"] == [f"{name}=={package['version']}"]
        assert flet[platform]["source_packages"] == [name]  # built from its folder
    assert "shopguard-flet-push" not in str(tomllib.loads(APP.read_text())["project"])  # web
    assert flet["android"]["permission"]["android.permission.POST_NOTIFICATIONS"] is True
    assert flet["ios"]["info"]["UIBackgroundModes"] == ["remote-notification"]

    pubspec = yaml.safe_load((DART / "pubspec.yaml").read_text())
    assert pubspec["name"] == DART.name == "flet_push"  # the Dart package
    assert (EXTENSION / "src" / pubspec["name"] / "__init__.py").is_file()  # the Python one
    assert {"firebase_core", "firebase_messaging", "flet"} <= pubspec["dependencies"].keys()
    extension = (DART / "lib" / "src" / "extension.dart").read_text()
    control_type = FirebaseMessaging(api_key=None)._c
    assert f'case "{control_type}":' in extension  # the Dart service for the Python control
    dart = (DART / "lib" / "src" / "messaging.dart").read_text()
    for method in ("request_permission", "get_token"):  # what the Python side invokes
        assert f'case "{method}":' in dart
    for event in ("notification_opened", "token_refresh"):  # what its handlers receive
        assert f'control.triggerEvent("{event}"' in dart
        assert f"on_{event}" in FirebaseMessaging.__dataclass_fields__

    subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(tmp_path), str(EXTENSION)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("shopguard_flet_push-0.1.0-*.whl")
    files = set(zipfile.ZipFile(wheel).namelist())
    dart_files = {f"flutter/flet_push/{p.relative_to(DART)}" for p in DART.rglob("*.dart")}
    assert {"flutter/flet_push/pubspec.yaml", *dart_files} <= files
    assert {"flet_push/__init__.py", "flet_push/messaging.py", "flet_push/options.py"} <= files
