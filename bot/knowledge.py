"""The knowledge loop: officials answer what the assistant could not, once for many askers, and the assistant serves
those answers at once — no retraining, no YAML edit.

1. The queue (`question_groups`): unanswered and clarified questions (`assistant_unanswered` without an answer)
   grouped by similarity (`bot.similarity`, weighted character n-grams, single linkage at `THRESHOLD`).
2. An official answers a group (`publish`) with a source (document, article, date, status) and an optional expiry.
   The questions point at the answer — labelled examples for the next training (`export_learned`, Rasa NLU YAML) —
   and every asker is told through the ticket-answer delivery: an answered ticket per conversation (the open
   handoff ticket of that very question, else a new one) and `TicketAnswered`, which the WeChat part delivers.
3. The assistant serves it (`serve`): the fallback actions (low confidence, out of scope) and the chat gateway's
   fallback when Rasa is unreachable look for an active, unexpired answer of the asker's region whose question or
   examples are at least `THRESHOLD` alike, and answer with it, its source and its date. The active answers are kept
   in each process's near cache (`servable`), so a fallback costs no database read; publishing or editing one
   invalidates them everywhere once its unit of work commits.
4. Officials correct, re-date or withdraw answers (`update_answer`); a corrected text reaches the askers again.
   Every publish, edit and withdrawal is appended to `assistant_knowledge_audit`.

Who may do what (jurisdictions): `bot/permissions.py`. Services `flush()`; the request's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pypinyin import lazy_pinyin
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot import repository, similarity
from bot.errors import KnowledgeAnswerNotFound, QuestionsAlreadyAnswered
from bot.models import ConsultationTicket, KnowledgeAnswer, KnowledgeAudit, UnansweredQuestion
from bot.permissions import PERMISSIONS, Action
from bot.schemas import (
    KnowledgeIn,
    KnowledgeOut,
    KnowledgePage,
    KnowledgePatch,
    KnowledgeQuery,
    QuestionGroupOut,
    QuestionGroupPage,
    QuestionGroupQuery,
    SourceIn,
    SourceOut,
    UnansweredOut,
)
from core.auth import NATIONWIDE, Principal, Scope
from core.cache import Cache, bump_after_commit
from core.chat import detect_language
from core.db import utcnow
from core.errors import field_error
from core.events import TicketAnswered, publish
from core.permissions import OutsideJurisdiction
from core.regions import prefix_of
from enterprises import service as enterprises

CHINA = ZoneInfo("Asia/Shanghai")
# Two questions this alike (bot.similarity) are one group; a new question this alike to an answer's question or
# examples is served that answer. Chosen on the examples in tests/bot/test_similarity.py (docs/assistant.md).
THRESHOLD = 0.4
# A policy answer the model was not sure of (confidence below PREEMPT_BELOW) gives way to an official answer this
# alike (action_answer_policy): the model's reading may be the wrong topic, the official answered this very question.
# Measured with the trained model (docs/assistant.md): of 16 questions on six topics it has no intent for, 12 were
# nlu_fallback and 4 got a wrong policy topic at 0.62-0.72 — 0.59, 0.52, 0.74 and 1.0 alike to the officials' groups.
PREEMPT_BELOW = 0.8
PREEMPT_SIMILARITY = 0.5
# How many of the newest queued questions are grouped (grouping is pairwise: bounded work per request).
QUEUE_WINDOW = 400
DOMAIN_DIR = Path(__file__).parent / "domain"
STATUS_LABELS = {
    "zh": {"draft": "征求意见稿", "in_force": "现行有效", "superseded": "已被修订"},
    "en": {"draft": "draft", "in_force": "in force", "superseded": "superseded"},
}


def china_today() -> dt.date:
    return dt.datetime.now(CHINA).date()


@functools.cache
def known_intents() -> frozenset[str]:
    """The intents of the Rasa domain (bot/domain/*.yml): what an answer's questions may be labelled with."""
    names: set[str] = set()
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("intents") or []:
            names.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return frozenset(names)


def lapsed(expires_on: dt.date | None, today: dt.date) -> bool:
    """An answer is served up to and including its expiry date (China's calendar day)."""
    return expires_on is not None and expires_on < today


def state_of(answer: KnowledgeAnswer, today: dt.date) -> str:
    if answer.status == "withdrawn":
        return "withdrawn"
    if lapsed(answer.expires_on, today):
        return "expired"
    return "active"


def answer_out(answer: KnowledgeAnswer, examples: int, *, told: int = 0, today: dt.date | None = None) -> KnowledgeOut:
    return KnowledgeOut(
        id=answer.id,
        question=answer.question,
        answer=answer.answer,
        lang=answer.lang,
        intent=answer.intent,
        source=SourceOut(
            document=answer.source_document,
            article=answer.source_article,
            date=answer.source_date,
            status=answer.source_status,
        ),
        expires_on=answer.expires_on,
        region_code=answer.region_code,
        status=answer.status,
        state=state_of(answer, today or china_today()),
        examples=examples,
        told=told,
        created_by=answer.created_by,
        created_at=answer.created_at,
        updated_at=answer.updated_at,
    )


def render(answer: KnowledgeAnswer) -> str:
    """The answer as the assistant says it: the text, its source line (document, article, date, status) and the
    date the official answered (or last corrected) it, in the answer's language."""
    lang = "en" if answer.lang == "en" else "zh"
    status = STATUS_LABELS[lang][answer.source_status]
    day = answer.updated_at.astimezone(CHINA).date().isoformat()
    if lang == "zh":
        article = answer.source_article
        source = (
            f"来源：《{answer.source_document.strip('《》')}》{article}（{answer.source_date.isoformat()}，{status}）"
        )
        footer = f"（主管部门答复，{day}）"
        if answer.expires_on is not None:
            footer = f"（主管部门答复，{day}；有效至{answer.expires_on.isoformat()}）"
    else:
        article = f", {answer.source_article}" if answer.source_article else ""
        source = f"Source: {answer.source_document}{article} ({answer.source_date.isoformat()}, {status})"
        footer = f"(Answered by the IP office, {day}"
        footer += f"; valid until {answer.expires_on.isoformat()})" if answer.expires_on is not None else ")"
    return f"{answer.answer.strip()}\n{source}\n{footer}"


def _channel_of(sender_id: str) -> str:
    prefix = sender_id.partition(":")[0]
    return {"wx": "wechat", "u": "miniprogram"}.get(prefix, "")


async def _audit(
    session: AsyncSession, answer: KnowledgeAnswer, action: str, actor: Principal | None, note: str, questions: int = 0
) -> None:
    session.add(
        KnowledgeAudit(
            answer_id=answer.id,
            action=action,
            actor_user_id=None if actor is None else actor.user_id,
            questions=questions,
            note=note[:2000],
            at=utcnow(),
        )
    )
    await session.flush()


# ---------------------------------------------------------------- the queue, grouped


async def question_groups(
    session: AsyncSession, principal: Principal | None, query: QuestionGroupQuery
) -> QuestionGroupPage:
    """The queued questions (the newest `QUEUE_WINDOW`) grouped by similarity, largest groups first (then the
    most recently asked): what to answer first."""
    PERMISSIONS.check(principal, Action.READ_UNANSWERED)
    rows = await repository.queued_questions(session, query.reason, QUEUE_WINDOW)
    groups = [[rows[i] for i in members] for members in similarity.group([r.text for r in rows], THRESHOLD)]
    groups.sort(key=lambda g: (-len(g), -max(q.created_at.timestamp() for q in g), g[0].id))
    start = (query.page - 1) * query.page_size
    items = [
        QuestionGroupOut(
            question_ids=[q.id for q in g],
            size=len(g),
            askers=len({q.sender_id for q in g}),
            lang=Counter(q.lang for q in g).most_common(1)[0][0],
            questions=[UnansweredOut.model_validate(q) for q in g],
            first_at=min(q.created_at for q in g),
            last_at=max(q.created_at for q in g),
        )
        for g in groups[start : start + query.page_size]
    ]
    return QuestionGroupPage(
        items=items,
        total=len(groups),
        questions=len(rows),
        threshold=THRESHOLD,
        page=query.page,
        page_size=query.page_size,
    )


# ---------------------------------------------------------------- publishing and telling the askers


def _publishing_region(principal: Principal) -> str:
    """Where the official's answer will be served: their jurisdiction; an official of no region answers nowhere."""
    if principal.region_code is None:
        raise OutsideJurisdiction(
            "an official of no region has no jurisdiction to publish an answer in",
            details={"region_code": None, "your_region": None},
        )
    return principal.region_code


def _check_intent(intent: str) -> None:
    if intent and intent not in known_intents():
        raise field_error("intent", f"{intent!r} is not an intent of the assistant (leave it empty for a new topic)")


def _check_expiry(expires_on: dt.date | None) -> None:
    if expires_on is not None and expires_on < china_today():
        raise field_error("expires_on", "the expiry date is in the past: the answer would never be served")


async def _tell(
    session: AsyncSession, answer: KnowledgeAnswer, actor: Principal, questions: list[UnansweredQuestion]
) -> int:
    """An answered ticket per conversation that asked, and `TicketAnswered` for each (delivered by the channels
    in this transaction). A conversation whose open handoff ticket holds one of these questions gets that ticket
    answered; others get a new, answered ticket. Returns how many askers were told."""
    text, now = render(answer), utcnow()
    told = 0
    for sender_id, asked in _by_conversation(questions).items():
        ticket = await repository.open_ticket_of_conversation(session, sender_id)
        if ticket is None or ticket.question.strip() not in {q.text.strip() for q in asked}:
            first = asked[0]
            ticket = ConsultationTicket(
                sender_id=sender_id[:100],
                channel=_channel_of(sender_id),
                user_id=first.user_id,
                enterprise_id=None,
                lang=first.lang,
                question=first.text[:2000],
                transcript="\n".join(q.text.replace("\n", " ")[:500] for q in asked[-6:]),
            )
            session.add(ticket)
        ticket.status = "answered"
        ticket.answer = text
        ticket.answered_by = actor.user_id
        ticket.answered_at = now
        ticket.knowledge_answer_id = answer.id
        await session.flush()
        await _announce(session, ticket)
        told += 1
    return told


def _by_conversation(questions: list[UnansweredQuestion]) -> dict[str, list[UnansweredQuestion]]:
    out: dict[str, list[UnansweredQuestion]] = {}
    for q in sorted(questions, key=lambda q: q.id):
        out.setdefault(q.sender_id, []).append(q)
    return out


async def _announce(session: AsyncSession, ticket: ConsultationTicket) -> None:
    await publish(
        session,
        TicketAnswered(
            ticket_id=ticket.id,
            sender_id=ticket.sender_id,
            channel=ticket.channel,
            user_id=ticket.user_id,
            lang=ticket.lang,
            question=ticket.question,
            answer=ticket.answer,
        ),
    )


async def publish_answer(
    session: AsyncSession, cache: Cache, principal: Principal | None, body: KnowledgeIn
) -> KnowledgeOut:
    """Answer a group of queued questions: the answer is served from now on, the questions become its labelled
    examples, and their askers are told. Questions answered meanwhile (by another official) refuse it: 409."""
    actor = PERMISSIONS.check(principal, Action.ANSWER_QUESTIONS)
    region = _publishing_region(actor)
    _check_intent(body.intent)
    _check_expiry(body.expires_on)
    ids = sorted(set(body.question_ids))
    questions = await repository.lock_questions(session, ids)
    missing = sorted(set(ids) - {q.id for q in questions})
    if missing:
        raise field_error("question_ids", f"no queued question {', '.join(map(str, missing))}")
    taken = [q.id for q in questions if q.knowledge_answer_id is not None]
    if taken:
        raise QuestionsAlreadyAnswered(taken)
    answer = KnowledgeAnswer(
        question=body.question,
        answer=body.answer,
        lang=body.lang or detect_language(body.answer),
        intent=body.intent,
        region_code=region,
        status="active",
        expires_on=body.expires_on,
        created_by=actor.user_id,
        updated_by=actor.user_id,
        **_source_columns(body.source),
    )
    session.add(answer)
    await session.flush()
    for q in questions:
        q.knowledge_answer_id = answer.id
    await session.flush()
    told = await _tell(session, answer, actor, questions)
    await _audit(session, answer, "published", actor, f"{len(questions)} questions, {told} askers told", len(questions))
    forget_servable(session, cache)
    return answer_out(answer, len(questions), told=told)


def _source_columns(source: SourceIn) -> dict[str, object]:
    return {
        "source_document": source.document,
        "source_article": source.article,
        "source_date": source.date,
        "source_status": source.status,
    }


# ---------------------------------------------------------------- officials' list, corrections, withdrawal


def _visible_to(principal: Principal) -> list[ColumnElement[bool]]:
    """The answers an official sees: nationwide ones, and those of their region and below (all, nationwide)."""
    scope = Scope.of(principal)
    if scope.everything and not scope.limited_to_region:
        return []
    nationwide = KnowledgeAnswer.region_code == NATIONWIDE
    if scope.region is None:
        return [nationwide]
    return [or_(nationwide, KnowledgeAnswer.region_code.startswith(scope.region))]


def _state_filter(state: str, today: dt.date) -> ColumnElement[bool]:
    if state == "withdrawn":
        return KnowledgeAnswer.status == "withdrawn"
    live = KnowledgeAnswer.status == "active"
    if state == "expired":
        return and_(live, KnowledgeAnswer.expires_on.is_not(None), KnowledgeAnswer.expires_on < today)
    return and_(live, or_(KnowledgeAnswer.expires_on.is_(None), KnowledgeAnswer.expires_on >= today))


async def list_answers(session: AsyncSession, principal: Principal | None, query: KnowledgeQuery) -> KnowledgePage:
    acting = PERMISSIONS.check(principal, Action.READ_KNOWLEDGE)
    today = china_today()
    where = _visible_to(acting)
    if query.state is not None:
        where.append(_state_filter(query.state, today))
    rows, total = await repository.answer_page(session, where, query.page, query.page_size)
    examples = await repository.example_texts(session, [r.id for r in rows])
    return KnowledgePage(
        items=[answer_out(r, len(examples[r.id]), today=today) for r in rows],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


async def update_answer(
    session: AsyncSession, cache: Cache, principal: Principal | None, answer_id: int, patch: KnowledgePatch
) -> KnowledgeOut:
    """Correct, re-date or withdraw an answer inside the official's jurisdiction. A corrected text is delivered
    again to the askers it told (as a corrected ticket answer is)."""
    actor = PERMISSIONS.check(principal, Action.ANSWER_QUESTIONS)
    answer = await repository.lock_answer(session, answer_id)
    if answer is None or (_visible_to(actor) and not _sees(actor, answer)):
        raise KnowledgeAnswerNotFound(answer_id)
    PERMISSIONS.check_region(actor, Action.ANSWER_QUESTIONS, answer.region_code, f"official answer {answer_id}")
    changed: list[str] = []
    if "expires_on" in patch.model_fields_set and patch.expires_on != answer.expires_on:
        _check_expiry(patch.expires_on)
        answer.expires_on = patch.expires_on
        changed.append(f"expires_on={patch.expires_on}")
    if patch.question is not None and patch.question != answer.question:
        answer.question = patch.question
        changed.append("question")
    if patch.source is not None:
        for column, value in _source_columns(patch.source).items():
            setattr(answer, column, value)
        changed.append("source")
    old_text = answer.answer
    if patch.answer is not None and patch.answer != answer.answer:
        answer.answer = patch.answer
        changed.append("answer")
    withdrawn = patch.status == "withdrawn" and answer.status != "withdrawn"
    if patch.status is not None and patch.status != answer.status:
        answer.status = patch.status
        changed.append(f"status={patch.status}")
    answer.updated_by = actor.user_id
    answer.updated_at = utcnow()
    await session.flush()
    if answer.answer != old_text or "source" in changed:
        for ticket in await repository.tickets_of_answer(session, answer.id):
            ticket.answer = render(answer)
            ticket.answered_at = answer.updated_at
            await session.flush()
            await _announce(session, ticket)
    if changed:
        await _audit(session, answer, "withdrawn" if withdrawn else "edited", actor, ", ".join(changed))
        forget_servable(session, cache)
    examples = await repository.example_texts(session, [answer.id])
    return answer_out(answer, len(examples[answer.id]))


def _sees(principal: Principal, answer: KnowledgeAnswer) -> bool:
    scope = Scope.of(principal)
    return answer.region_code == NATIONWIDE or (
        scope.region is not None and answer.region_code.startswith(scope.region)
    )


# ---------------------------------------------------------------- serving


@dataclass(frozen=True, slots=True)
class Servable:
    """An active answer as the assistant serves it: what a question is matched against (its question and the
    questions it answered), where and until when it holds, and what the assistant says."""

    answer_id: int
    region_code: str
    expires_on: dt.date | None
    texts: tuple[str, ...]
    reply: str

    def serves(self, today: dt.date) -> bool:
        return not lapsed(self.expires_on, today)


@dataclass(frozen=True, slots=True)
class Served:
    answer_id: int
    score: float
    text: str


# The active answers, as one near-cache entry (`core.nearcache`) of each process. Publishing or editing an answer
# bumps the namespace after its commit, in every process; the expiry dates are checked when serving, so an answer
# that lapses at midnight stops being served then. The TTL only bounds what a missed invalidation could cost.
KNOWLEDGE_NAMESPACE = "assistant_knowledge"
SERVABLE_KEY = "servable"
SERVABLE_TTL_SECONDS = 300.0


def forget_servable(session: AsyncSession, cache: Cache) -> None:
    """Once per unit of work: after the commit, every process reads the active answers again."""
    bump_after_commit(session, cache, KNOWLEDGE_NAMESPACE)


async def _servable_from_database(session: AsyncSession) -> list[Servable]:
    answers = await repository.answers(session, [KnowledgeAnswer.status == "active"])
    examples = await repository.example_texts(session, [a.id for a in answers])
    return [Servable(a.id, a.region_code, a.expires_on, (a.question, *examples[a.id]), render(a)) for a in answers]


def _encode(answers: list[Servable]) -> bytes:
    rows = [
        [a.answer_id, a.region_code, a.expires_on.isoformat() if a.expires_on else None, list(a.texts), a.reply]
        for a in answers
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()


def _decode(data: bytes) -> list[Servable]:
    return [
        Servable(answer_id, region, dt.date.fromisoformat(expires) if expires else None, tuple(texts), reply)
        for answer_id, region, expires, texts, reply in json.loads(data)
    ]


async def servable(session: AsyncSession, cache: Cache) -> list[Servable]:
    """The active answers (expired ones included: `Servable.serves` says), from this process's near cache when it
    may answer, else from the database (and kept for the next question)."""
    near = cache.near
    # Read before the database: a bump while we read makes what we read not count.
    generation = near.generation(KNOWLEDGE_NAMESPACE)
    if generation is not None:
        kept = near.get(KNOWLEDGE_NAMESPACE, SERVABLE_KEY)
        if kept is not None:
            return _decode(kept)
    answers = await _servable_from_database(session)
    if generation is not None:
        near.put(KNOWLEDGE_NAMESPACE, SERVABLE_KEY, _encode(answers), generation=generation, ttl=SERVABLE_TTL_SECONDS)
    return answers


def _serves_region(answer: Servable, asker_region: str | None) -> bool:
    if answer.region_code == NATIONWIDE:
        return True
    return asker_region is not None and asker_region.startswith(prefix_of(answer.region_code))


async def asker_region(session: AsyncSession, principal: Principal | None) -> str | None:
    """The region of the asker's enterprise (a verified sender's), None when unknown."""
    if principal is None or principal.enterprise_id is None:
        return None
    summary = await enterprises.get_enterprise_summary(session, principal.enterprise_id)
    return None if summary is None else summary.region_code


async def serve(
    session: AsyncSession,
    cache: Cache,
    text: str,
    principal: Principal | None,
    *,
    threshold: float | None = None,
) -> Served | None:
    """The official answer for a question, if one is active, unexpired, served in the asker's region and alike
    enough (its question or one of its examples at least `threshold`, default `THRESHOLD`); the closest when
    several are. Reads the database only for what the near cache does not hold: the asker's region, and only
    when a regional answer is among the candidates."""
    least = THRESHOLD if threshold is None else threshold
    if not text.strip() or text.startswith("/"):
        return None
    today = china_today()
    candidates = [a for a in await servable(session, cache) if a.serves(today)]
    if not candidates:
        return None
    if any(a.region_code != NATIONWIDE for a in candidates):
        region = await asker_region(session, principal)
        candidates = [a for a in candidates if _serves_region(a, region)]
    best: Served | None = None
    for answer in candidates:
        score = similarity.best_match(text, answer.texts)
        if score >= least and (best is None or score > best.score):
            best = Served(answer.answer_id, score, answer.reply)
    return best


# ---------------------------------------------------------------- the labelled examples, for the next training

_EXAMPLE_UNSAFE = re.compile(r"[\[\]{}()\n\r\t]")


def _example(text: str) -> str:
    """One example line: one line, without the characters Rasa reads as entity annotations."""
    return " ".join(_EXAMPLE_UNSAFE.sub(" ", text).split())


LEARNED_PREFIX = "learned_"
# The longest intent name written (the length of `KnowledgeAnswer.intent`, so an official can adopt it as is).
LEARNED_MAX = 60
_LEARNED_WORD = re.compile(r"[a-z0-9]+")
# A question's closing particles and punctuation say nothing about its topic.
_TOPIC_TAIL = re.compile(r"[\s\W_吗呢吧啊呀嘛]+$")


def learned_intent(answer: KnowledgeAnswer) -> str:
    """The intent name for an answer's questions when the official named none: `learned_` and the official's topic
    in pinyin / its own Latin words (专利年费能减缴吗？ -> learned_zhuan_li_nian_fei_neng_jian_jiao), cut at a word to
    `LEARNED_MAX` characters. Only a-z, 0-9 and `_` (a valid Rasa intent name in any tool), the same on every export,
    and one intent for answers on the same topic; `learned_<answer id>` when the topic has no letter or digit."""
    topic = _TOPIC_TAIL.sub("", unicodedata.normalize("NFKC", answer.question))
    words = [w for part in lazy_pinyin(topic) for w in _LEARNED_WORD.findall(part.lower())]
    name = LEARNED_PREFIX.rstrip("_")
    for word in words:
        if len(name) + 1 + len(word) > LEARNED_MAX:
            break
        name = f"{name}_{word}"
    return name if name != LEARNED_PREFIX.rstrip("_") else f"{LEARNED_PREFIX}{answer.id}"


async def export_learned(session: AsyncSession, principal: Principal | None, *, command_line: bool = False) -> str:
    """The questions officials answered, as Rasa NLU training data (YAML): under the intent the official named,
    else under `learned_intent` (a name from the official's topic) for a topic the model lacks (to be checked, or
    turned into a policy fact, before training). Withdrawn answers are left out; expired ones stay (the questions were
    still asked that way)."""
    if not command_line:
        acting = PERMISSIONS.check(principal, Action.READ_KNOWLEDGE)
        where = [*_visible_to(acting), KnowledgeAnswer.status == "active"]
    else:
        where = [KnowledgeAnswer.status == "active"]
    rows = await repository.answers(session, where)
    examples = await repository.example_texts(session, [r.id for r in rows])
    by_intent: dict[str, list[tuple[KnowledgeAnswer, list[str]]]] = {}
    for answer in rows:
        texts = [answer.question, *examples[answer.id]]
        by_intent.setdefault(answer.intent or learned_intent(answer), []).append((answer, texts))
    lines = [
        "# Questions answered by officials (the knowledge loop), exported for the next training.",
        "# learned_*: a topic the model has no intent for, named from the official's topic; check the name (and give",
        "# it a policy fact) before training.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent in sorted(by_intent):
        seen: set[str] = set()
        block: list[str] = []
        for answer, texts in by_intent[intent]:
            source = _example(answer.source_document)
            lines.append(f"# answer {answer.id}: {source} ({answer.source_date.isoformat()})")
            for text in texts:
                line = _example(text)
                if line and line not in seen:
                    seen.add(line)
                    block.append(f"    - {line}")
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(block)
    return "\n".join(lines) + "\n"
