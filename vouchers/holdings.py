"""What a holder sees of its vouchers — balance, expiry, where each can be spent — and one voucher in full, with its
redemptions and audit history (for the holder and officials)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal, Role
from core.errors import NotFound
from vouchers import repository
from vouchers.errors import NotYourVoucher
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import check_jurisdiction, program_or_404
from vouchers.schemas import AuditOut, VoucherDetail, VoucherOut
from vouchers.views import redemption_out, vouchers_out


async def my_vouchers(session: AsyncSession, principal: Principal | None) -> list[VoucherOut]:
    """The acting enterprise's vouchers (soonest expiry first) with where they can be spent; [] for anyone else."""
    if principal is None or principal.enterprise_id is None:
        return []
    vouchers = await repository.vouchers_of_enterprise(session, principal.enterprise_id)
    return await vouchers_out(session, vouchers, with_usable_at=True)


async def list_my_vouchers(session: AsyncSession, principal: Principal | None) -> list[VoucherOut]:
    actor = PERMISSIONS.check(principal, Action.LIST_MY_VOUCHERS)
    if actor.enterprise_id is None:
        raise NotYourVoucher("this account does not belong to an enterprise")
    return await my_vouchers(session, actor)


async def get_voucher(session: AsyncSession, principal: Principal | None, voucher_id: int) -> VoucherDetail:
    actor = PERMISSIONS.check(principal, Action.READ_VOUCHER)
    voucher = await repository.voucher(session, voucher_id)
    if voucher is None:
        raise NotFound(f"no voucher {voucher_id}")
    if actor.is_official:
        check_jurisdiction(actor, Action.READ_VOUCHER, await program_or_404(session, voucher.program_id))
    elif not PERMISSIONS.scope(actor, Action.READ_VOUCHER).covers(enterprise_id=voucher.enterprise_id):
        raise NotYourVoucher("this voucher belongs to another enterprise")
    (out,) = await vouchers_out(session, [voucher], with_usable_at=actor.role is Role.ENTERPRISE)
    redemptions = await repository.redemptions_of_voucher(session, voucher.id)
    flags = await repository.flags_of_redemptions(session, [r.id for r in redemptions]) if actor.is_official else {}
    history = await repository.audit_of_voucher(session, voucher.id)
    return VoucherDetail(
        **out.model_dump(),
        redemptions=[redemption_out(r, flags.get(r.id, [])) for r in redemptions],
        history=[AuditOut.model_validate(a) for a in history],
    )
