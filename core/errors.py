"""One error type that carries its HTTP status and code; a middleware renders every error as the contract's JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class ValidationFailed(AppError):
    """The request is well-formed but a field is wrong; `details` lists each field and why."""

    status = 422
    code = "validation_error"


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"


def field_error(field: str, message: str, *, code: str = "validation_error") -> ValidationFailed:
    """A 422 naming one field, in the same shape pydantic failures are reported."""
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, "message": message}], code=code)


def error_response(error: AppError) -> web.Response:
    response = web.json_response(error.to_body(), status=error.status)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns every failure into `{"error": {...}}`; an unexpected exception is logged, never shown."""
    try:
        return await handler(request)
    except AppError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400 or request.path == "/wechat" or not _wants_json(request):
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        response = web.json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status)
        if "Allow" in exc.headers:  # a 405 names the methods the resource supports (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception as exc:
        if database_unreachable(exc):
            # PostgreSQL down or restarting: say so at once (the pool reconnects by itself when it is back).
            log.warning("database unavailable", extra={"path": request.path, "error": f"{type(exc).__name__}: {exc}"})
            return error_response(
                ServiceUnavailable("the database is unavailable; try again shortly", code="database_unavailable")
            )
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        body = {"error": {"code": "internal_error", "message": "internal error; it has been logged"}}
        return web.json_response(body, status=500)


# asyncpg's errors for a server that is gone, going or not yet back (by name: asyncpg is optional with SQLite).
_OUTAGE_ERRORS = frozenset(
    {
        "CannotConnectNowError",  # starting up or shutting down
        "ConnectionDoesNotExistError",  # the connection closed mid-query
        "ConnectionFailureError",
        "AdminShutdownError",  # terminated by a fast shutdown
        "CrashShutdownError",
        "TooManyConnectionsError",
    }
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) means the database cannot be reached right now, not a bug in a query."""
    from sqlalchemy import exc as sa

    seen: BaseException | None = exc
    for _ in range(6):  # the error, SQLAlchemy's wrapper, the driver's error and what it was raised from
        if seen is None:
            return False
        if isinstance(seen, sa.TimeoutError):  # no pooled connection came free in time
            return True
        if isinstance(seen, sa.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, ConnectionError | TimeoutError) or type(seen).__name__ in _OUTAGE_ERRORS:
            return True
        if isinstance(seen, OSError) and seen.errno is not None and seen.filename is None:
            return True  # a socket error (connect refused, host unreachable), not a file problem
        nxt = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
        seen = nxt if nxt is not seen else None
    return False


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")
