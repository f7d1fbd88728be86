"""From plan to agency: the agencies that can carry out a route — in the region, offering the route's service,
in the field — best credit level first, each marked where the signed-in enterprise's vouchers can pay and with
what the enterprise would pay itself. The search is the agencies' own (`agencies.service.search`, its cache
included) and the voucher rule the vouchers' own (`vouchers.service.payable_at`)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import SERVICES, FieldCode, ServiceCode
from agencies.schemas import AgencyCard, AgencyPage, SearchQuery
from agencies.service import search
from core.auth import Principal
from core.cache import Cache
from fast_track.rules import Kind, TrackName
from fast_track.schemas import RegionCode
from fast_track.service import profile_of
from vouchers.service import payable_at

# The agency service that carries out each route (for `normal` and `fast_preexam`: the filing of that kind).
TRACK_SERVICE: dict[TrackName, ServiceCode | None] = {
    TrackName.PRIORITY_EXAM: ServiceCode.PRIORITY_EXAM_ASSIST,
    TrackName.PPH: ServiceCode.PCT_FOREIGN,
    TrackName.CENTRALIZED_EXAM: ServiceCode.INVENTION,
    TrackName.TRADEMARK_FAST_EXAM: ServiceCode.TRADEMARK_REGISTRATION,
    TrackName.FAST_PREEXAM: None,
    TrackName.NORMAL: None,
}
FILING: dict[Kind, ServiceCode] = {
    Kind.INVENTION: ServiceCode.INVENTION,
    Kind.UTILITY_MODEL: ServiceCode.UTILITY_MODEL,
    Kind.DESIGN: ServiceCode.DESIGN,
    Kind.TRADEMARK: ServiceCode.TRADEMARK_REGISTRATION,
}


class PlanAgenciesQuery(BaseModel):
    # (page_size first: a count that cannot be read is reported before anything else is missing.)
    page_size: int = Field(default=10, ge=1, le=50)
    track: TrackName
    kind: Kind | None = None
    region: RegionCode | None = Field(default=None, description="the applicant's region; from the profile if known")
    field: FieldCode | None = Field(default=None, description="the plan's `field_match.field`")


class VoucherUse(BaseModel):
    voucher_id: int
    program_name: str
    share_bp: int
    balance_fen: int
    # What the enterprise itself would pay at the agency's listed lowest and highest price (integer fen).
    own_share_min_fen: int
    own_share_max_fen: int


class PlanAgency(BaseModel):
    agency: AgencyCard
    price_min_fen: int | None
    price_max_fen: int | None
    voucher: VoucherUse | None


class PlanAgencies(BaseModel):
    track: TrackName
    service: ServiceCode
    service_label: str
    region: str | None
    region_from_profile: bool
    field: str | None
    items: list[PlanAgency]
    total: int
    note: str


def service_for(track: TrackName, kind: Kind | None) -> ServiceCode:
    service = TRACK_SERVICE[track]
    if service is not None:
        return service
    return FILING[kind] if kind is not None else ServiceCode.INVENTION


async def agencies_for_plan(
    session: AsyncSession, cache: Cache, principal: Principal | None, query: PlanAgenciesQuery, *, cache_ttl: int
) -> PlanAgencies:
    profile = await profile_of(session, principal)
    region = query.region
    from_profile = False
    if region is None and profile is not None and profile.region_code is not None:
        region, from_profile = profile.region_code, True
    if region is not None and not region.endswith("00"):
        region = region[:4] + "00"  # a district's applicant is served by the agencies of its whole city
    service = service_for(query.track, query.kind)
    field = query.field
    wanted = SearchQuery(region=region, service=service, field=field, sort="rating", page_size=query.page_size)
    page = AgencyPage.model_validate_json((await search(session, cache, wanted, cache_ttl=cache_ttl)).text)
    if not page.items and field is not None:
        # Nobody lists that field there: widen to the service in the region rather than answer "none".
        wanted = wanted.model_copy(update={"field": None})
        page = AgencyPage.model_validate_json((await search(session, cache, wanted, cache_ttl=cache_ttl)).text)
        field = None
    pays = await payable_at(session, principal, [a.id for a in page.items], service.value)
    items = []
    for card in page.items:
        listed = next((s for s in card.services if s.code is service), None)
        low = listed.price_min_fen if listed else None
        high = listed.price_max_fen if listed else None
        use = None
        pay = pays.get(card.id)
        if pay is not None and low is not None and high is not None:
            use = VoucherUse(
                voucher_id=pay.voucher_id,
                program_name=pay.program_name,
                share_bp=pay.share_bp,
                balance_fen=pay.balance_fen,
                own_share_min_fen=pay.own_share(low),
                own_share_max_fen=pay.own_share(high),
            )
        items.append(PlanAgency(agency=card, price_min_fen=low, price_max_fen=high, voucher=use))
    if profile is None or profile.enterprise_id is None:
        note = (
            "登录并绑定企业后，可标出您的服务券能支付的机构 / "
            "sign in with your enterprise to see where your vouchers pay"
        )
    else:
        note = (
            "已标出您的服务券可支付的机构及自付金额 / agencies where your vouchers pay, with your own share, are marked"
        )
    return PlanAgencies(
        track=query.track,
        service=service,
        service_label=SERVICES[service].zh,
        region=region,
        region_from_profile=from_profile,
        field=field.value if field else None,
        items=items,
        total=page.total,
        note=note,
    )
