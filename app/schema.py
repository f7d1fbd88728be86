"""Every domain's tables, for Alembic and for tests: importing a models module registers it on `Base.metadata`."""

from __future__ import annotations

from sqlalchemy import MetaData

import accounts.links
import accounts.models
import agencies.models
import bot.models
import enterprises.models
import fast_track.models
import vouchers.models
import wechat.models
from core.db import Base

MODEL_MODULES = (
    agencies.models,
    enterprises.models,
    accounts.models,
    accounts.links,
    vouchers.models,
    wechat.models,
    bot.models,
    fast_track.models,
)


def load_models() -> MetaData:
    """The metadata holding every table (each models module above registered its own on import)."""
    return Base.metadata
