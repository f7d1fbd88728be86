"""Agency rows in the API's shapes, where more than copying is needed (labels, regions, enums, decoded columns);
rows that map field for field are read with the schema's `model_validate`."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from agencies.catalogue import SERVICES, CreditLevel, ServiceCode, fields_from_mask
from agencies.models import Agency
from agencies.repository import CardRow
from agencies.schemas import AgencyCard, RatingOut, RegionOut, ReviewSummary, ServiceOut
from core import regions


def region_out(code: str) -> RegionOut:
    return RegionOut(code=code, name=regions.display_name(code))


def services_out(items: Sequence[tuple[str, int, int]]) -> list[ServiceOut]:
    out = []
    for code, low, high in items:
        service = ServiceCode(code)
        label = SERVICES[service]
        out.append(
            ServiceOut(code=service, label_zh=label.zh, label_en=label.en, price_min_fen=low, price_max_fen=high)
        )
    return out


def rating_out(agency: Agency) -> RatingOut:
    return RatingOut(
        level=CreditLevel(agency.credit_level),
        score=agency.credit_score,
        updated_at=agency.rating_updated_at,
        evaluated_on=agency.evaluated_on,
        under_objection=agency.objections_open > 0,
    )


def review_summary_out(count: int, average: float | None) -> ReviewSummary:
    return ReviewSummary(count=count, average=None if average is None else round(average, 2))


def review_average(count: int, total: int) -> float | None:
    """The average a result card shows, from the visible reviews' count and sum kept on the agency row."""
    return round(total / count, 2) if count > 0 else None


# ---------------------------------------------------------------- result cards


@functools.cache
def _region_dict(code: str) -> dict[str, str]:
    return {"code": code, "name": regions.display_name(code)}


_SERVICE_LABELS = {code.value: (label.zh, label.en) for code, label in SERVICES.items()}


def card_dicts(rows: Sequence[CardRow]) -> list[dict[str, Any]]:
    """Result cards as plain data in the shape of `AgencyCard` (the hot path of search: no per-card validation;
    the values come from our own rows, and the tests check the shape against the schema)."""
    out = []
    for row in rows:
        services = []
        for code, low, high in json.loads(row.services_json):
            zh, en = _SERVICE_LABELS[code]
            services.append({"code": code, "label_zh": zh, "label_en": en, "price_min_fen": low, "price_max_fen": high})
        out.append(
            {
                "id": row.id,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                "short_name": row.short_name,
                "kind": row.kind,
                "region": _region_dict(row.region_code),
                "credit_level": row.credit_level,
                "credit_score": row.credit_score,
                "patent_attorneys": row.patent_attorneys,
                "trademark_agents": row.trademark_agents,
                "accepts_vouchers": row.accepts_vouchers,
                "services": services,
                "fields": [code.value for code in fields_from_mask(row.fields_mask)],
                "under_objection": row.objections_open > 0,
                "review_count": row.review_count,
                "review_average": review_average(row.review_count, row.review_total),
            }
        )
    return out


def cards(rows: Sequence[CardRow]) -> list[AgencyCard]:
    """The same cards as validated models (lists that are not the search hot path)."""
    return [AgencyCard.model_validate(card) for card in card_dicts(rows)]
