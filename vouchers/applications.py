"""Enterprises apply for a voucher (申领); an official, or the programme's first-come-first-served rule, decides.

A programme takes applications when an official gives it an opening time (and optionally a closing time, the
documents to attach, and the review: `official` or `fcfs`). Enterprise staff see the programmes taking applications
with whether their enterprise qualifies and why not (`applyable_programs`), apply once per programme (`submit`),
and follow the state: submitted → approved (a voucher is issued) | waitlisted | rejected (with the reason).

Approval issues through `vouchers.issuing.issue_for_application` (an official's decision) or
`issue_for_applications` (a first-come batch) — the same eligibility, yearly cap, budget and ledger rules as an
official's issue, in the same transaction as the application's new state — so the budget can
never be exceeded and the voucher's audit records the approval. No enterprise gets two vouchers from one programme
this way: one application per (programme, enterprise) (a unique constraint), and an enterprise already holding a
voucher of the programme may not apply.

Locks (PostgreSQL row locks), always in this order: the programme row, then the application rows by id. A
first-come application is written and committed first, then decided in a batch under the programme's lock with
every other committed one still waiting (`decide_first_come`, run by the process's loop in `vouchers.first_come`);
an official's decision locks the programmes of the applications (by id), then the applications (by id). Issuing
locks the same programme row, so approvals, automatic ones and direct issues all queue on the budget. A repeated
submit of the same enterprise finds its application (or its insert meets the unique constraint, inserts nothing and
reads the winner's row) and gets the same answer again (200, `replayed`).

Each decision is an `ApplicationEvent` row (append-only history) and publishes `ApplicationDecided` (the WeChat push
queues a subscribe message in the same transaction); an approval's voucher audit row names the application.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.service import prefetch_wechat_openids
from core.auth import Principal, Scope
from core.db import upsert_insert, utcnow
from core.errors import AppError, NotFound, ValidationFailed, field_error
from core.events import ApplicationDecided as ApplicationDecidedEvent
from core.events import publish
from core.permissions import OutsideJurisdiction
from core.regions import prefix_of
from enterprises.catalogue import Qualification
from enterprises.service import EnterpriseSummary, enterprise_summaries, get_enterprise_summary
from vouchers import repository
from vouchers.errors import (
    AlreadyApplied,
    ApplicationDecided,
    ApplicationsClosed,
    BudgetExceeded,
    NotYourApplication,
    NotYourVoucher,
)
from vouchers.issuing import eligibility_problems, issue_for_application, issue_for_applications
from vouchers.models import ApplicationEvent, Voucher, VoucherApplication, VoucherProgram
from vouchers.permissions import PERMISSIONS, Action
from vouchers.programs import apply_settings, check_jurisdiction, get_program, program_or_404
from vouchers.schemas import (
    ApplicantOut,
    ApplicationDetail,
    ApplicationDocument,
    ApplicationEventOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    ApplicationQuery,
    ApplicationReview,
    ApplicationSettingsIn,
    ApplicationState,
    ApplyableProgramOut,
    BulkDecisionIn,
    BulkDecisionOut,
    DecisionIn,
    DecisionResult,
    EarlierVoucher,
    IneligibilityOut,
    ProgramOut,
)
from vouchers.transitions import effective_state
from vouchers.views import eligibility_out, services_out, settings_out, window_problem

S = ApplicationState

# Which decision may be made from which state, and the state it leads to.
DECISIONS: dict[str, tuple[frozenset[ApplicationState], ApplicationState]] = {
    "approve": (frozenset({S.SUBMITTED, S.WAITLISTED}), S.APPROVED),
    "waitlist": (frozenset({S.SUBMITTED}), S.WAITLISTED),
    "reject": (frozenset({S.SUBMITTED, S.WAITLISTED}), S.REJECTED),
}


@dataclass(frozen=True, slots=True)
class Submitted:
    application: ApplicationOut
    replayed: bool  # the enterprise had already applied with the same documents: the same answer again
    # First come first served and not decided yet: commit, then wait for `decide_first_come` (vouchers.first_come).
    awaits_decision: bool = False


# ---------------------------------------------------------------- the programme's settings


async def configure(
    session: AsyncSession, principal: Principal | None, program_id: int, data: ApplicationSettingsIn
) -> ProgramOut:
    """Open (or change how) a programme takes applications (officials)."""
    actor = PERMISSIONS.check(principal, Action.CONFIGURE_APPLICATIONS)
    program = await repository.lock_program(session, program_id)
    if program is None:
        raise NotFound(f"no voucher programme {program_id}")
    check_jurisdiction(actor, Action.CONFIGURE_APPLICATIONS, program)
    apply_settings(program, data)
    await session.flush()
    return await get_program(session, program.id)


async def _qualification_problems(
    session: AsyncSession,
    program: VoucherProgram,
    enterprise: EnterpriseSummary,
    holdings: repository.VoucherHoldings,
    now: dt.datetime,
) -> list[IneligibilityOut]:
    """Why this enterprise would not get a voucher of this programme: region, qualification (the issuing path's own
    rules), the yearly cap, a voucher of this programme already held."""
    problems = [
        IneligibilityOut(code=code, message=m) for code, m in eligibility_problems(program, enterprise, now.date())
    ]
    cap = program.per_enterprise_year_cap_fen
    if cap is not None:
        already = await repository.enterprise_year_total(session, program.id, enterprise.id, now.year)
        if already + program.face_value_fen > cap:
            problems.append(
                IneligibilityOut(
                    code="year_cap",
                    message=f"already received {already} fen from this programme in {now.year}; "
                    f"another {program.face_value_fen} fen would pass the yearly cap of {cap} fen",
                )
            )
    if program.id in holdings.held_programs:
        problems.append(IneligibilityOut(code="already_holds", message="already holds a voucher of this programme"))
    return problems


# ---------------------------------------------------------------- what an enterprise sees


def _enterprise_of(actor: Principal) -> int:
    if actor.enterprise_id is None:
        raise NotYourVoucher("this account does not belong to an enterprise")
    return actor.enterprise_id


async def applyable_programs(session: AsyncSession, principal: Principal | None) -> list[ApplyableProgramOut]:
    """Programmes taking applications (open now or later), each with whether the caller's enterprise qualifies,
    why not, and its application if it made one."""
    actor = PERMISSIONS.check(principal, Action.LIST_APPLYABLE)
    enterprise_id = _enterprise_of(actor)
    enterprise = await get_enterprise_summary(session, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    now = utcnow()
    programs = await repository.programs_taking_applications(session, now)
    services = await repository.program_services(session, [p.id for p in programs]) if programs else {}
    mine = await repository.applications_of_enterprise(session, enterprise_id, [p.id for p in programs])
    holdings = await repository.voucher_holdings(session, enterprise_id)
    outs = await _applications_out(session, list(mine.values()), {p.id: p for p in programs})
    by_program = {o.program_id: o for o in outs}
    answer = []
    for program in programs:
        reasons = await _qualification_problems(session, program, enterprise, holdings, now)
        window = window_problem(program, now)
        settings = settings_out(program, now)
        assert settings is not None
        answer.append(
            ApplyableProgramOut(
                id=program.id,
                name=program.name,
                description=program.description,
                region_code=program.region_code,
                services=services_out(services[program.id]),
                face_value_fen=program.face_value_fen,
                share_bp=program.share_bp,
                per_enterprise_year_cap_fen=program.per_enterprise_year_cap_fen,
                eligibility=eligibility_out(program),
                valid_until=program.valid_until,
                applications=settings,
                remaining_budget_fen=program.budget_fen - program.committed_fen,
                qualifies=not reasons,
                reasons=reasons if window is None else [*reasons, window],
                can_apply=not reasons and window is None and program.id not in mine,
                my_application=by_program.get(program.id),
            )
        )
    return answer


def _documents_json(data: ApplicationIn) -> str:
    return json.dumps([d.model_dump() for d in data.documents], ensure_ascii=False, sort_keys=True)


def _check_documents(program: VoucherProgram, data: ApplicationIn) -> None:
    """Every document the programme asks for, each once, and nothing it does not ask for (422 naming the field)."""
    asked: list[str] = json.loads(program.application_documents)
    given = [d.name for d in data.documents]
    for index, name in enumerate(given):
        if name not in asked:
            raise field_error(
                f"documents.{index}.name", f"the programme does not ask for {name!r}; it asks for {asked}"
            )
        if given.index(name) != index:
            raise field_error(f"documents.{index}.name", f"{name!r} is given twice")
    missing = [name for name in asked if name not in given]
    if missing:
        raise field_error("documents", f"missing: {', '.join(missing)} (a reference for each)")


async def submit(session: AsyncSession, principal: Principal | None, program_id: int, data: ApplicationIn) -> Submitted:
    """Apply for a voucher of the programme for the caller's enterprise; idempotent per (programme, enterprise).

    First come first served: decided at once (approved with the voucher issued, or waitlisted when the budget is
    used up). Official review: submitted, to be decided. Refused with every reason when the enterprise does not
    qualify (422 `not_eligible`) or the programme is not taking applications (409 `applications_closed`)."""
    actor = PERMISSIONS.check(principal, Action.APPLY)
    enterprise_id = _enterprise_of(actor)
    program = await program_or_404(session, program_id)
    existing = await repository.application_of(session, program.id, enterprise_id)
    if existing is not None:
        return await _replay(session, existing, data, program)
    now = utcnow()
    window = window_problem(program, now)
    if window is not None:
        raise ApplicationsClosed(window.message, details={"program_id": program.id, "reason": window.code})
    _check_documents(program, data)
    enterprise = await get_enterprise_summary(session, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    holdings = await repository.voucher_holdings(session, enterprise.id)
    problems = await _qualification_problems(session, program, enterprise, holdings, now)
    if problems:
        raise ValidationFailed(
            f"the enterprise does not qualify: {problems[0].message}",
            details=[p.model_dump() for p in problems],
            code="not_eligible",
        )
    # One statement that inserts unless the same enterprise's other request got there first (the unique constraint):
    # then nothing is inserted, nothing is rolled back, and this request is answered as that one was.
    application = await session.scalar(
        upsert_insert(session, VoucherApplication)
        .values(_new_application(actor, program, enterprise, data, now))
        .on_conflict_do_nothing(index_elements=[VoucherApplication.program_id, VoucherApplication.enterprise_id])
        .returning(VoucherApplication)
    )
    if application is None:
        winner = await repository.application_of(session, program.id, enterprise_id)
        assert winner is not None
        return await _replay(session, winner, data, program)
    _record(session, application, None, actor, "submitted", now)
    out = _application_out(application, program, enterprise, holdings.received, now.date())
    return Submitted(out, replayed=False, awaits_decision=program.application_review == ApplicationReview.FCFS)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a decided application's request answers (read inside the deciding transaction, used after it)."""

    state: ApplicationState
    voucher_id: int | None
    decision_reason: str
    decided_at: dt.datetime | None

    def applied_to(self, submitted: Submitted) -> Submitted:
        """The submitted application's answer with this decision."""
        decided = submitted.application.model_copy(
            update={
                "state": self.state,
                "voucher_id": self.voucher_id,
                "decision_reason": self.decision_reason,
                "decided_at": self.decided_at,
            }
        )
        return Submitted(decided, replayed=submitted.replayed)


async def decide_first_come(
    session: AsyncSession, program_id: int, waiting: Collection[int]
) -> tuple[dict[int, Decision], int]:
    """Under the programme's lock, decide every committed application of it still waiting (in id order, up to
    `FIRST_COME_BATCH`), then tell, of the applications in `waiting`, those decided now — by this batch or an
    earlier one of either process; the others wait for the next batch. One transaction decides a burst's worth.
    Returns those decisions and how many applications this batch decided.

    Approved (the voucher issued through the issuing path) while the budget lasts, waitlisted after; each in this
    one transaction with its decision, its history row and its push."""
    program = await repository.lock_program(session, program_id)  # the budget: one batch at a time
    assert program is not None
    pending = await repository.submitted_applications(session, program.id, limit=FIRST_COME_BATCH)
    enterprises = await enterprise_summaries(session, list({a.enterprise_id for a in pending}))
    await prefetch_wechat_openids(session, enterprises)  # each decision pushes twice to its enterprise's staff
    now = utcnow()
    outcomes = await issue_for_applications(
        session, program, [(a.id, enterprises[a.enterprise_id]) for a in pending], now
    )
    for application, outcome in zip(pending, outcomes, strict=True):
        await _decide_first_come(session, application, program, outcome, now)
    await session.flush()
    waiting_ids = set(waiting)  # looked up once per application of the batch
    decided = {a.id: a for a in pending if a.id in waiting_ids}
    # The rest were decided by another batch while this one waited for the lock (or wait for the next batch, when
    # more than a batch was ahead of them): read them, in one query.
    others = [i for i in waiting_ids if i not in decided]
    decided.update((a.id, a) for a in await repository.applications_by_id(session, others))
    decisions = {
        i: Decision(ApplicationState(a.state), a.voucher_id, a.decision_reason, a.decided_at)
        for i, a in decided.items()
        if a.state != S.SUBMITTED
    }
    return decisions, len(pending)


# Most applications one first-come transaction decides (the rest are decided by the next one).
FIRST_COME_BATCH = 200


async def _decide_first_come(
    session: AsyncSession,
    application: VoucherApplication,
    program: VoucherProgram,
    outcome: Voucher | AppError,
    now: dt.datetime,
) -> None:
    """Approved with the voucher the batch issued, waitlisted when the budget was used up, rejected when the issuing
    rules refused it (changed since the checks before the lock); the caller holds the programme's row lock."""
    if isinstance(outcome, Voucher):
        application.voucher_id = outcome.id
        await _decide(
            session, application, program, None, S.APPROVED, "first come, first served within the budget", now
        )
    elif isinstance(outcome, BudgetExceeded):
        reason = "the programme's budget is used up; waitlisted in the order received"
        await _decide(session, application, program, None, S.WAITLISTED, reason, now)
    else:
        await _decide(session, application, program, None, S.REJECTED, outcome.message, now)


def _new_application(
    actor: Principal, program: VoucherProgram, enterprise: EnterpriseSummary, data: ApplicationIn, now: dt.datetime
) -> dict[str, Any]:
    """The new application's columns."""
    return dict(
        program_id=program.id,
        enterprise_id=enterprise.id,
        enterprise_name=enterprise.name,
        credit_code=enterprise.credit_code,
        region_code=enterprise.region_code,
        applicant_user_id=actor.user_id,
        state=S.SUBMITTED.value,
        documents=_documents_json(data),
        note=data.note,
        decision_reason="",
        created_at=now,
        updated_at=now,
    )


async def _replay(
    session: AsyncSession, existing: VoucherApplication, data: ApplicationIn, program: VoucherProgram
) -> Submitted:
    """The enterprise applied already: the same request gets the same application back; another one is a 409."""
    if existing.documents != _documents_json(data) or existing.note != data.note:
        raise AlreadyApplied(
            f"your enterprise already applied to programme {existing.program_id} (application {existing.id}, "
            f"{existing.state}); one application per programme",
            details={"application_id": existing.id, "state": existing.state},
        )
    (out,) = await _applications_out(session, [existing], {program.id: program})
    waiting = existing.state == S.SUBMITTED and program.application_review == ApplicationReview.FCFS
    return Submitted(out, replayed=True, awaits_decision=waiting)


def _record(
    session: AsyncSession,
    application: VoucherApplication,
    from_state: ApplicationState | None,
    actor: Principal | None,
    reason: str,
    now: dt.datetime,
) -> None:
    session.add(
        ApplicationEvent(
            application_id=application.id,
            from_state=None if from_state is None else from_state.value,
            to_state=application.state,
            actor_user_id=None if actor is None else actor.user_id,
            actor_role="system" if actor is None else actor.role.value,
            reason=reason,
            created_at=now,
        )
    )


async def _decide(
    session: AsyncSession,
    application: VoucherApplication,
    program: VoucherProgram,
    actor: Principal | None,
    to: ApplicationState,
    reason: str,
    now: dt.datetime,
) -> None:
    """Move the application to its decided state, record it and tell the enterprise (push, same transaction)."""
    before = ApplicationState(application.state)
    application.state = to.value
    application.decision_reason = reason
    application.decided_by = None if actor is None else actor.user_id
    application.decided_at = now
    application.updated_at = now
    _record(session, application, before, actor, reason, now)
    await publish(
        session,
        ApplicationDecidedEvent(
            application_id=application.id,
            enterprise_id=application.enterprise_id,
            program_id=program.id,
            program_name=program.name,
            state=to.value,
            reason=reason,
            voucher_id=application.voucher_id,
        ),
    )


# ---------------------------------------------------------------- officials decide


async def decide(
    session: AsyncSession, principal: Principal | None, application_id: int, data: DecisionIn
) -> ApplicationDetail:
    """Approve (the voucher is issued), waitlist or reject one application; 409 with the reason when it cannot be."""
    _, errors = await _decide_many(session, principal, [application_id], data)
    if application_id in errors:
        raise errors[application_id]
    return await get_application(session, principal, application_id)


async def decide_in_bulk(session: AsyncSession, principal: Principal | None, data: BulkDecisionIn) -> BulkDecisionOut:
    """The same decision for many applications, in id order: each one that can be decided is; each one that cannot
    (already decided, budget used up, no longer eligible…) is reported with its reason and left as it was."""
    result, _ = await _decide_many(session, principal, data.application_ids, data)
    return result


async def _decide_many(
    session: AsyncSession, principal: Principal | None, application_ids: Sequence[int], data: DecisionIn
) -> tuple[BulkDecisionOut, dict[int, AppError]]:
    """Each decision, and the refusal of each application that could not be decided."""
    actor = PERMISSIONS.check(principal, Action.DECIDE_APPLICATION)
    scope = Scope.of(actor)
    found = {a.id: a for a in await repository.applications_by_id(session, application_ids)}
    programs: dict[int, VoucherProgram] = {}
    for program_id in sorted({a.program_id for a in found.values()}):  # lock order: programmes by id …
        program = await repository.lock_program(session, program_id)
        assert program is not None
        programs[program_id] = program
    locked = {a.id: a for a in await repository.lock_applications(session, list(found))}  # … then applications
    enterprises = await enterprise_summaries(session, list({a.enterprise_id for a in locked.values()}))
    now = utcnow()
    allowed_from, to = DECISIONS[data.decision]
    results: list[DecisionResult] = []
    errors: dict[int, AppError] = {}
    for application_id in application_ids:
        application = locked.get(application_id)
        if application is None or not scope.covers(
            enterprise_id=application.enterprise_id, region_code=programs[application.program_id].region_code
        ):
            error: AppError = (
                NotFound(f"no application {application_id}", code="application_not_found")
                if application is None
                else OutsideJurisdiction(
                    f"application {application_id} is to programme {application.program_id}, outside your jurisdiction"
                )
            )
            errors[application_id] = error
            results.append(_failure(application_id, None, error))
            continue
        state = ApplicationState(application.state)
        if state not in allowed_from:
            error = ApplicationDecided(
                f"application {application.id} is {state.value}; it cannot be {data.decision}d from there",
                details={"application_id": application.id, "state": state.value},
            )
            errors[application_id] = error
            results.append(_failure(application_id, state, error))
            continue
        program = programs[application.program_id]
        reason = data.reason or ""
        if to is S.APPROVED:
            enterprise = enterprises.get(application.enterprise_id)
            assert enterprise is not None
            try:
                async with session.begin_nested():
                    audit_reason = f"application {application.id} approved by official {actor.user_id}"
                    voucher = await issue_for_application(
                        session,
                        actor,
                        program,
                        enterprise,
                        f"{audit_reason}: {reason}" if reason else audit_reason,
                        now,
                    )
                    await session.flush()
            except AppError as refusal:
                errors[application_id] = refusal
                results.append(_failure(application_id, state, refusal))
                continue
            application.voucher_id = voucher.id
            reason = reason or "approved"
        await _decide(session, application, program, actor, to, reason, now)
        results.append(
            DecisionResult(application_id=application.id, ok=True, state=to, voucher_id=application.voucher_id)
        )
    await session.flush()
    failed = sum(1 for r in results if not r.ok)
    out = BulkDecisionOut(
        results=results,
        decided=len(results) - failed,
        failed=failed,
        remaining_budget_fen={p.id: p.budget_fen - p.committed_fen for p in programs.values()},
    )
    return out, errors


def _failure(application_id: int, state: ApplicationState | None, error: AppError) -> DecisionResult:
    return DecisionResult(
        application_id=application_id,
        ok=False,
        state=state,
        error={"code": error.code, "message": error.message, "status": error.status},
    )


# ---------------------------------------------------------------- reading


async def list_applications(
    session: AsyncSession, principal: Principal | None, query: ApplicationQuery
) -> ApplicationPage:
    """Officials: the applications in their scope, filtered; enterprise staff: their enterprise's own."""
    actor = PERMISSIONS.check(principal, Action.READ_APPLICATION)
    rows, total = await repository.applications(
        session,
        Scope.of(actor),
        program_id=query.program_id,
        state=None if query.state is None else query.state.value,
        region_prefix=None if query.region is None else prefix_of(query.region),
        q=query.q or None,
        limit=query.limit,
        offset=query.offset,
    )
    return ApplicationPage(items=await _applications_out(session, rows, {}), total=total)


async def get_application(session: AsyncSession, principal: Principal | None, application_id: int) -> ApplicationDetail:
    """One application with the applicant's qualification, earlier vouchers, what stands in the way now, and its
    history (officials; the applicant enterprise's staff)."""
    actor = PERMISSIONS.check(principal, Action.READ_APPLICATION)
    application = await repository.application(session, application_id)
    if application is None:
        raise NotFound(f"no application {application_id}", code="application_not_found")
    program = await program_or_404(session, application.program_id)
    check_jurisdiction(actor, Action.READ_APPLICATION, program)
    if not Scope.of(actor).covers(enterprise_id=application.enterprise_id, region_code=program.region_code):
        raise NotYourApplication("this application belongs to another enterprise")
    (out,) = await _applications_out(session, [application], {program.id: program})
    enterprise = await get_enterprise_summary(session, application.enterprise_id)
    assert enterprise is not None
    now = utcnow()
    vouchers = await repository.vouchers_of_enterprise(session, enterprise.id)
    names = await repository.program_names(session, {v.program_id for v in vouchers})
    problems: list[IneligibilityOut] = []
    if application.state in (S.SUBMITTED, S.WAITLISTED):
        holdings = await repository.voucher_holdings(session, enterprise.id)
        problems = await _qualification_problems(session, program, enterprise, holdings, now)
    return ApplicationDetail(
        **out.model_dump(),
        applicant=ApplicantOut(
            enterprise_id=enterprise.id,
            name=enterprise.name,
            credit_code=enterprise.credit_code,
            region_code=enterprise.region_code,
            qualification=enterprise.qualification,
            qualification_expires_on=enterprise.qualification_expires_on,
            qualification_today=enterprise.qualification_on(now.date()),
            earlier_vouchers=[
                EarlierVoucher(
                    id=v.id,
                    program_id=v.program_id,
                    program_name=names.get(v.program_id, ""),
                    face_value_fen=v.face_value_fen,
                    balance_fen=v.balance_fen,
                    state=effective_state(v, now),
                    issued_at=v.issued_at,
                )
                for v in vouchers
                if v.id != application.voucher_id
            ],
        ),
        history=[
            ApplicationEventOut.model_validate(e) for e in await repository.application_events(session, application.id)
        ],
        problems=problems,
    )


async def _applications_out(
    session: AsyncSession, applications: Sequence[VoucherApplication], programs: dict[int, VoucherProgram]
) -> list[ApplicationOut]:
    if not applications:
        return []
    for program_id in {a.program_id for a in applications} - programs.keys():
        program = await repository.program(session, program_id)
        assert program is not None
        programs[program_id] = program
    enterprises = await enterprise_summaries(session, list({a.enterprise_id for a in applications}))
    counts = await repository.voucher_counts(session, list(enterprises))
    today = utcnow().date()
    return [
        _application_out(
            a,
            programs[a.program_id],
            enterprises.get(a.enterprise_id),
            # Vouchers received before this application's own (earlier programmes, direct issues).
            counts.get(a.enterprise_id, 0) - (1 if a.voucher_id is not None else 0),
            today,
        )
        for a in applications
    ]


def _application_out(
    a: VoucherApplication,
    program: VoucherProgram,
    enterprise: EnterpriseSummary | None,
    earlier_vouchers: int,
    today: dt.date,
) -> ApplicationOut:
    return ApplicationOut(
        id=a.id,
        program_id=a.program_id,
        program_name=program.name,
        enterprise_id=a.enterprise_id,
        enterprise_name=enterprise.name if enterprise else a.enterprise_name,
        region_code=a.region_code,
        qualification_today=enterprise.qualification_on(today) if enterprise else Qualification.NONE,
        earlier_vouchers=earlier_vouchers,
        state=ApplicationState(a.state),
        documents=[ApplicationDocument.model_validate(d) for d in json.loads(a.documents)],
        note=a.note,
        face_value_fen=program.face_value_fen,
        voucher_id=a.voucher_id,
        decision_reason=a.decision_reason,
        decided_at=a.decided_at,
        created_at=a.created_at,
    )
