"""Firebase Cloud Messaging (HTTP v1) through pyfcm: Android phones, and iPhones whose app
registered through Firebase. Needs a Firebase service account file (`push.fcm_service_account`).

pyfcm blocks, so sends run on this notifier's own few threads, never on asyncio's default
executor; the dispatcher's deadline bounds how long a push waits for one. The endpoint
(a setting for tests) is held to the rules of `notify/endpoints.py`.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from google.oauth2 import service_account as service_account_credentials
from pyfcm import FCMNotification
from pyfcm.errors import (
    AuthenticationError,
    FCMNotRegisteredError,
    FCMSenderIdMismatchError,
    FCMServerError,
    InvalidDataError,
)
from requests import RequestException
from requests.adapters import HTTPAdapter

from server.errors import ConfigError
from server.notify.endpoints import EndpointPolicy, EndpointRefused
from server.notify.push import Delivery, Outcome, Target

GOOGLE_FCM = "https://fcm.googleapis.com/v1/projects"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
SEND_THREADS = 4


class FcmNotifier:
    platform = "fcm"

    def __init__(
        self,
        service_account: Path,
        *,
        project_id: str | None = None,
        endpoint_base: str = GOOGLE_FCM,
        timeout_s: float = 10.0,
        allow_private: bool = False,
    ) -> None:
        """`endpoint_base` is FCM's (`…/v1/projects`); tests point it at a local one, as the
        service account file's `token_uri` points its sign-in. It must be https on a public
        host unless `allow_private`.

        Raises:
            ConfigError: the service account file is missing or not one, or the endpoint
                is not allowed.
        """
        self._endpoints = EndpointPolicy(allow_private=allow_private)
        try:
            self._endpoint = self._endpoints.parse(endpoint_base)
        except EndpointRefused as exc:
            self._endpoints.close()
            raise ConfigError(f"push.fcm_endpoint {endpoint_base}: {exc}") from exc
        try:
            account = json.loads(service_account.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"FCM service account {service_account}: {exc}") from exc
        if not isinstance(account, dict) or account.get("type") != "service_account":
            raise ConfigError(f"FCM service account {service_account}: not a service account")
        try:  # loaded here, once: pyfcm's lazy loading races when pushes go out in parallel
            credentials = service_account_credentials.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                account, scopes=[FCM_SCOPE]
            )
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"FCM service account {service_account}: {exc}") from exc
        self._client = FCMNotification(
            credentials=credentials,
            project_id=project_id,
            adapter=HTTPAdapter(max_retries=0),  # no blocking retries: the outbox backs off
        )
        self._client.FCM_END_POINT_BASE = endpoint_base.rstrip("/")
        self._timeout = timeout_s
        self._threads = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="push-fcm")

    async def aclose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._endpoints.close()

    async def send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        try:  # what the name resolves to now (pyfcm connects by name)
            await self._endpoints.resolve(self._endpoint)
        except EndpointRefused as exc:
            return Outcome(Delivery.refused, f"FCM endpoint {exc}"[:300])
        except OSError as exc:
            return Outcome(Delivery.retry, f"FCM unavailable: {exc}"[:300])
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._send, target, payload)

    def _send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        data = {key: str(value) for key, value in payload.items()}  # FCM data is strings
        try:
            answer = self._client.notify(
                fcm_token=target.token,
                notification_title=payload["title"],
                notification_body=payload["body"],
                data_payload=data,
                android_config={"priority": "high"},
                timeout=self._timeout,
            )
        except (FCMNotRegisteredError, FCMSenderIdMismatchError) as exc:
            return Outcome(Delivery.gone, f"FCM: {exc}")
        except InvalidDataError as exc:
            if exc.args and isinstance(exc.args[0], BaseException):  # pyfcm's sign-in failed
                return Outcome(Delivery.retry, f"FCM sign-in failed: {exc.args[0]}"[:300])
            return Outcome(Delivery.refused, f"FCM refused the message: {exc}"[:300])
        except (FCMServerError, AuthenticationError, RequestException, OSError) as exc:
            return Outcome(Delivery.retry, f"FCM unavailable: {exc}"[:300])
        return Outcome(
            Delivery.sent, str(answer.get("name", "")) if isinstance(answer, dict) else ""
        )
