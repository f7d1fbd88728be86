from __future__ import annotations

from core.errors import ServiceUnavailable, TooManyRequests, Unauthenticated


class BadCredentials(Unauthenticated):
    code = "bad_credentials"


class LoginThrottled(TooManyRequests):
    """Too many failed logins for this user name or from this address (see `accounts.throttle`)."""

    code = "login_throttled"


class LoginBusy(ServiceUnavailable):
    """More password checks are waiting than the process lets queue (see `accounts.passwords`)."""

    code = "login_busy"
