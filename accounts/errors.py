from __future__ import annotations

from core.errors import Unauthenticated


class BadCredentials(Unauthenticated):
    code = "bad_credentials"
