"""Every domain's tables, for Alembic and for tests: importing a models module registers it on `Base.metadata`."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from core.db import Base

MODEL_MODULES = (
    "agencies.models",
    "enterprises.models",
    "accounts.models",
    "vouchers.models",
    "wechat.models",
    "bot.models",
)


def load_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
