"""The one retry policy of the bus: exponential back-off with jitter, forever, until closed."""

import logging
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_never,
    wait_exponential_jitter,
)

logger = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.05
BACKOFF_MAX_S = 2.0  # the backend is used again at most this long after it comes back


def retrying(
    what: str,
    errors: tuple[type[BaseException], ...],
    *,
    closed: Callable[[], bool],
    on_retry: Callable[[BaseException], None] | None = None,
) -> AsyncRetrying:
    """Retry a call that raised one of `errors` until it succeeds or `closed()` is true
    (then the error propagates). Logs each retry at WARNING."""

    def should_retry(error: BaseException) -> bool:
        return isinstance(error, errors) and not closed()

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if error is not None and on_retry is not None:
            on_retry(error)
        wait_s = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "bus: %s failed (%s: %s), retry %d in %.2fs",
            what,
            type(error).__name__,
            error,
            state.attempt_number,
            wait_s,
        )

    return AsyncRetrying(
        retry=retry_if_exception(should_retry),
        wait=wait_exponential_jitter(multiplier=BACKOFF_FIRST_S, max=BACKOFF_MAX_S, jitter=0.1),
        stop=stop_never,
        before_sleep=before_sleep,
        reraise=True,
    )
