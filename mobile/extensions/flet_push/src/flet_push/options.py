"""The Firebase app's identity, read from the files the Firebase console hands out:
google-services.json (Android) and GoogleService-Info.plist (iOS). `flet build` has no
place for these files in the Flutter project (nor for Google's Gradle plugin that reads
the JSON), so the app ships them with its Python code and Firebase is set up from Dart
with these values. None of them is a secret: every app built with them carries them."""

from __future__ import annotations

import json
import plistlib
from dataclasses import dataclass
from typing import Any


class FirebaseConfigError(ValueError):
    """A config file that does not hold what Firebase needs; the message says what."""


@dataclass(frozen=True, slots=True)
class FirebaseOptions:
    api_key: str
    app_id: str
    messaging_sender_id: str
    project_id: str
    ios_bundle_id: str | None = None

    @classmethod
    def from_google_services(cls, text: str, package_name: str | None = None) -> FirebaseOptions:
        """From google-services.json: the Android app `package_name`'s entry, or the only
        one when no name is given."""
        try:
            config = json.loads(text)
            project = config["project_info"]
            clients: list[dict[str, Any]] = config["client"]
        except (ValueError, KeyError, TypeError) as exc:
            raise FirebaseConfigError(f"not a google-services.json: {exc}") from exc
        if package_name is not None:
            clients = [
                c
                for c in clients
                if c.get("client_info", {}).get("android_client_info", {}).get("package_name")
                == package_name
            ]
        if len(clients) != 1:
            which = f"for {package_name}" if package_name else "(name the package)"
            raise FirebaseConfigError(
                f"google-services.json has {len(clients)} Android apps {which}, not one"
            )
        client = clients[0]
        try:
            return cls(
                api_key=client["api_key"][0]["current_key"],
                app_id=client["client_info"]["mobilesdk_app_id"],
                messaging_sender_id=str(project["project_number"]),
                project_id=project["project_id"],
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise FirebaseConfigError(f"google-services.json lacks {exc}") from exc

    @classmethod
    def from_service_info_plist(cls, data: bytes) -> FirebaseOptions:
        """From GoogleService-Info.plist (the iOS app's)."""
        try:
            plist = plistlib.loads(data)
            return cls(
                api_key=plist["API_KEY"],
                app_id=plist["GOOGLE_APP_ID"],
                messaging_sender_id=str(plist["GCM_SENDER_ID"]),
                project_id=plist["PROJECT_ID"],
                ios_bundle_id=plist.get("BUNDLE_ID"),
            )
        except (plistlib.InvalidFileException, ValueError) as exc:
            raise FirebaseConfigError(f"not a GoogleService-Info.plist: {exc}") from exc
        except KeyError as exc:
            raise FirebaseConfigError(f"GoogleService-Info.plist lacks {exc}") from exc
