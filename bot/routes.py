"""HTTP surface of the assistant: the mini-program chat, the Rasa action endpoint, officials' tickets, own tickets.

`POST /bot/actions` is the rasa_sdk action server protocol served by the backend itself (Rasa's
`endpoints.yml` points here): the request's unit of work is handed to the actions through `bot.context`, so
tickets they open commit with the request, and lookups read the same database the API serves.

It serves Rasa only: every request (the call and the `GET` listing) carries the token Rasa's action endpoint sends
(`X-Actions-Token`, `BOT_ACTIONS_TOKEN`), compared in constant time; without it 401, with another 403. A call is
validated like every other body (`bot.schemas.ActionCall`) before any action runs. Errors are the contract's
`{"error": {...}}`, except an action's rejection of a form slot, which keeps rasa_sdk's shape because Rasa reads it.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Histogram
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from bot import knowledge, service
from bot.context import ActionContext, action_context
from bot.errors import ActionsTokenInvalid, ActionsTokenMissing
from bot.facts import load_facts
from bot.gateway import RasaGateway
from bot.permissions import PERMISSIONS, Action
from bot.schemas import (
    ActionCall,
    ChatIn,
    ChatOut,
    KnowledgeIn,
    KnowledgeOut,
    KnowledgePage,
    KnowledgePatch,
    KnowledgeQuery,
    MyTicketOut,
    MyTicketPage,
    QuestionGroupPage,
    QuestionGroupQuery,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketQuery,
    UnansweredPage,
    UnansweredQuery,
)
from core.auth import principal_of
from core.chat import ChatTurn, MenuEngine
from core.errors import PayloadTooLarge
from core.http import Api, parse_body, path_id, session
from core.ratelimit import RateLimiter
from core.state import CACHE, CHAT_ENGINE, DATABASE, METRICS, READINESS_CHECKS, SETTINGS

log = logging.getLogger(__name__)

api = Api()
EXECUTOR: web.AppKey[Any] = web.AppKey("bot_action_executor")
WRITE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("bot_write_limiter", RateLimiter)
ACTIONS_PATH = "/bot/actions"
# The header Rasa's action endpoint sends (bot/endpoints*.yml): a header, so no access log ever holds it.
ACTIONS_TOKEN_HEADER = "X-Actions-Token"


def setup(app: web.Application) -> None:
    # The facts file is validated now: a broken file stops start-up with the reason, not the first question.
    load_facts()
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    app[EXECUTOR] = executor
    app[WRITE_LIMITER] = RateLimiter(app[SETTINGS])
    turns = Counter(
        "assistant_turns_total",
        "Chat turns by outcome: answered by Rasa, empty answer, or fallback (busy / timeout / unavailable)",
        ["outcome"],
        registry=app[METRICS].registry,
    )
    seconds = Histogram(
        "assistant_turn_seconds",
        "Time from the user's message to the replies, fallbacks included",
        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
        registry=app[METRICS].registry,
    )

    def observe(outcome: str, elapsed: float) -> None:
        turns.labels(outcome).inc()
        seconds.observe(elapsed)

    async def official_answer(turn: ChatTurn) -> str | None:
        # Rasa is unreachable: the officials' answers need no model (a read of its own, outside any request).
        async with app[DATABASE].transaction(write=False) as read:
            served = await knowledge.serve(read, app[CACHE], turn.text, turn.principal)
        return None if served is None else served.text

    gateway = RasaGateway.for_app(app, app[SETTINGS], observe, knowledge=official_answer)
    app[CHAT_ENGINE] = gateway
    app[READINESS_CHECKS]["rasa"] = gateway.ready
    app.router.add_post(ACTIONS_PATH, run_action, name="bot_actions")
    app.router.add_get(ACTIONS_PATH, list_actions, name="bot_actions_list")


def _require_rasa(request: web.Request) -> None:
    """Only Rasa may call the actions: the token its action endpoint sends, compared in constant time."""
    provided = request.headers.get(ACTIONS_TOKEN_HEADER)
    if not provided:
        raise ActionsTokenMissing()
    expected = request.app[SETTINGS].bot_actions_token.encode()
    # surrogatepass: whatever a header decoded to, it compares (and fails) instead of raising.
    if not expected or not hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), expected):
        raise ActionsTokenInvalid()


def _rejection(message: str, action_name: str | None) -> web.Response:
    # rasa_sdk's shape: Rasa reads `action_name` and the message of a 400 to reject the form slot.
    return web.json_response({"error": message, "action_name": action_name}, status=400)


def _unrunnable(code: str, message: str, action_name: str | None, status: int) -> web.Response:
    error = {"code": code, "message": message, "details": {"action_name": action_name}}
    return web.json_response({"error": error, "action_name": action_name}, status=status)


async def run_action(request: web.Request) -> web.Response:
    """One action call from Rasa (`{"next_action", "sender_id", "tracker", "domain", "version"}`), answered in
    rasa_sdk's format: `{"events", "responses"}`; 400 rejects a form's slot, 404 names an unknown action."""
    _require_rasa(request)
    try:
        call = await parse_body(request, ActionCall)
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("the action call is larger than the server takes") from None
    context = ActionContext(
        session=session(request),
        cache=request.app[CACHE],
        settings=request.app[SETTINGS],
        limiter=request.app[WRITE_LIMITER],
    )
    executor = request.app[EXECUTOR]
    try:
        with action_context(context):
            result = await executor.run(call.for_executor())
    except ActionExecutionRejection as exc:
        return _rejection(exc.message, exc.action_name)
    except ActionNotFoundException as exc:
        return _unrunnable("action_not_found", exc.message, exc.action_name, 404)
    except ActionMissingDomainException as exc:
        return _unrunnable("action_needs_domain", exc.message, exc.action_name, 449)
    return web.json_response(result.model_dump() if result is not None else None)


async def list_actions(request: web.Request) -> web.Response:
    _require_rasa(request)
    return web.json_response([a.model_dump() for a in request.app[EXECUTOR].list_actions()])


@api.route(
    "POST",
    "/api/v1/chat",
    body=ChatIn,
    response=ChatOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.CHAT),
    tags=["assistant"],
    summary="Ask the assistant (mini-program): replies with text, buttons and cards",
)
async def chat(request: web.Request, body: ChatIn) -> ChatOut:
    engine = request.app.get(CHAT_ENGINE) or MenuEngine()
    return await service.chat(engine, principal_of(request), body.text)


@api.route(
    "GET",
    "/api/v1/assistant/tickets",
    query=TicketQuery,
    response=TicketPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.WORK_TICKETS),
    tags=["assistant"],
    summary="Consultation tickets opened by the assistant's human handoff (officials), newest first",
)
async def list_tickets(request: web.Request, query: TicketQuery) -> TicketPage:
    return await service.list_tickets(session(request), principal_of(request), query)


@api.route(
    "PATCH",
    "/api/v1/assistant/tickets/{ticket_id}",
    body=TicketPatch,
    response=TicketOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.WORK_TICKETS),
    tags=["assistant"],
    errors=[409],
    summary="Work a ticket: set its status and/or the expert's answer (an answer alone marks it answered)",
)
async def update_ticket(request: web.Request, body: TicketPatch) -> TicketOut:
    return await service.update_ticket(session(request), principal_of(request), path_id(request, "ticket_id"), body)


@api.route(
    "GET",
    "/api/v1/me/tickets",
    query=TicketQuery,
    response=MyTicketPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_OWN_TICKETS),
    tags=["assistant"],
    summary="My consultation tickets (questions handed to the experts), newest first, with the experts' answers",
)
async def my_tickets(request: web.Request, query: TicketQuery) -> MyTicketPage:
    return await service.my_tickets(session(request), principal_of(request), query)


@api.route(
    "GET",
    "/api/v1/me/tickets/{ticket_id}",
    response=MyTicketOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_OWN_TICKETS),
    tags=["assistant"],
    errors=[404],
    summary="One of my consultation tickets; another user's answers 404",
)
async def my_ticket(request: web.Request) -> MyTicketOut:
    return await service.my_ticket(session(request), principal_of(request), path_id(request, "ticket_id"))


@api.route(
    "GET",
    "/api/v1/assistant/unanswered",
    query=UnansweredQuery,
    response=UnansweredPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_UNANSWERED),
    tags=["assistant"],
    summary="Questions the assistant could not answer (officials), newest first",
)
async def list_unanswered(request: web.Request, query: UnansweredQuery) -> UnansweredPage:
    return await service.list_unanswered(session(request), principal_of(request), query)


# ---------------------------------------------------------------- the knowledge loop (officials' answers)

# What the export's YAML reads as: Rasa's training-data file.
NLU_YAML = {
    "type": "object",
    "required": ["version", "nlu"],
    "properties": {
        "version": {"type": "string"},
        "nlu": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["intent", "examples"],
                "properties": {"intent": {"type": "string"}, "examples": {"type": "string"}},
            },
        },
    },
}


@api.route(
    "GET",
    "/api/v1/assistant/knowledge/groups",
    query=QuestionGroupQuery,
    response=QuestionGroupPage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_UNANSWERED),
    tags=["assistant"],
    summary="Queued unanswered questions grouped by similarity, largest groups first (officials)",
)
async def question_groups(request: web.Request, query: QuestionGroupQuery) -> QuestionGroupPage:
    return await knowledge.question_groups(session(request), principal_of(request), query)


@api.route(
    "POST",
    "/api/v1/assistant/knowledge",
    body=KnowledgeIn,
    response=KnowledgeOut,
    status=201,
    auth=True,
    roles=PERMISSIONS.roles(Action.ANSWER_QUESTIONS),
    tags=["assistant"],
    errors=[403, 409],
    summary="Answer a group of queued questions with a source: served by the assistant at once, askers told",
)
async def publish_answer(request: web.Request, body: KnowledgeIn) -> KnowledgeOut:
    return await knowledge.publish_answer(session(request), request.app[CACHE], principal_of(request), body)


@api.route(
    "GET",
    "/api/v1/assistant/knowledge",
    query=KnowledgeQuery,
    response=KnowledgePage,
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_KNOWLEDGE),
    tags=["assistant"],
    summary="Officials' answers served by the assistant (nationwide ones and those of your region), newest first",
)
async def list_answers(request: web.Request, query: KnowledgeQuery) -> KnowledgePage:
    return await knowledge.list_answers(session(request), principal_of(request), query)


@api.route(
    "PATCH",
    "/api/v1/assistant/knowledge/{answer_id}",
    body=KnowledgePatch,
    response=KnowledgeOut,
    auth=True,
    roles=PERMISSIONS.roles(Action.ANSWER_QUESTIONS),
    tags=["assistant"],
    errors=[403, 404],
    summary="Correct an official answer, its source or expiry; withdraw it or put it back (in your jurisdiction)",
)
async def update_answer(request: web.Request, body: KnowledgePatch) -> KnowledgeOut:
    return await knowledge.update_answer(
        session(request), request.app[CACHE], principal_of(request), path_id(request, "answer_id"), body
    )


@api.route(
    "GET",
    "/api/v1/assistant/knowledge/export",
    auth=True,
    roles=PERMISSIONS.roles(Action.READ_KNOWLEDGE),
    tags=["assistant"],
    extra_responses={"200": {"description": "Rasa NLU YAML", "content": {"text/yaml": {"schema": NLU_YAML}}}},
    summary="The answered questions as Rasa NLU training data (YAML), for the next training (officials)",
)
async def export_learned(request: web.Request) -> web.Response:
    text = await knowledge.export_learned(session(request), principal_of(request))
    response = web.Response(text=text, content_type="text/yaml", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="learned.yml"'
    return response
