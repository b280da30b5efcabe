"""Domain errors, mapped to HTTP in `server/api/errors.py`.

* ShopGuardError
  x ConfigError         settings or key files unusable; the server refuses to start
  x ModelError          a model file missing, corrupt or of the wrong shape (run prepare_weights.sh)
  x NotFound            → 404 (also for things outside the caller's stores)
  x Conflict            → 409 (duplicate names, stale versions, things still in use)
  x InvalidRequest      → 422 (valid JSON that breaks a rule no schema can express)
  x AuthError           → 401 (no, bad, expired or revoked credentials)
  x Forbidden           → 403 (authenticated, but the role may not do this)
  x TooManyAttempts     → 429 (login throttled or account locked)
  x RangeNotSatisfiable → 416 (a byte range past the end of a file)
  x Unavailable         → 503 (a service the request needs, such as the evidence store, is down)
  x CameraUnavailable   a video source could not be opened, failed, stalled or ended
"""


class ShopGuardError(Exception):
    """Base of everything ShopGuard raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ShopGuardError):
    code = "config_error"


class ModelError(ShopGuardError):
    code = "model_error"


class NotFound(ShopGuardError):
    code = "not_found"


class Conflict(ShopGuardError):
    code = "conflict"


class InvalidRequest(ShopGuardError):
    code = "invalid_request"


class AuthError(ShopGuardError):
    code = "unauthorized"


class Forbidden(ShopGuardError):
    code = "forbidden"


class TooManyAttempts(ShopGuardError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RangeNotSatisfiable(ShopGuardError):
    code = "range_not_satisfiable"

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class Unavailable(ShopGuardError):
    code = "unavailable"


class CameraUnavailable(ShopGuardError):
    """A video source failed; the message never holds credentials."""

    code = "camera_unavailable"
