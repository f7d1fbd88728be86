"""One process's requests waiting for first-come decisions, decided together.

A first-come application is decided after its submission commits, under its programme's row lock, in a batch with
every other committed application still waiting (`vouchers.applications.decide_first_come`). In one process the
requests waiting on the same programme share one deciding loop: while any of them waits, it runs one batch
transaction after another and hands each request its decision once a committed batch — of this process or of
another — has made it. A waiting request holds no connection and no write slot; a burst's thousand waiting requests
cost a few statements per batch, not a turn at the lock and a read each.
"""

from __future__ import annotations

import asyncio
import logging

from core.db import Database
from core.errors import ServiceUnavailable
from vouchers.applications import Decision, Submitted, decide_first_come

log = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 5.0  # at shutdown, how long the running loops may go on deciding what still waits


class FirstComeDecider:
    """The process's waiting first-come requests, by programme, and the loop deciding each programme's."""

    def __init__(self) -> None:
        self._waiting: dict[int, dict[int, asyncio.Future[Decision]]] = {}
        self._loops: dict[int, asyncio.Task[None]] = {}

    async def decision(self, db: Database, submitted: Submitted) -> Submitted:
        """The committed first-come application `submitted`, decided (it waits for the batch that decides it)."""
        program_id, application_id = submitted.application.program_id, submitted.application.id
        waiting = self._waiting.setdefault(program_id, {})
        future = waiting.get(application_id)  # the same enterprise's repeated request waits for the same decision
        if future is None:
            future = waiting[application_id] = asyncio.get_running_loop().create_future()
        if program_id not in self._loops:
            self._loops[program_id] = asyncio.create_task(self._decide_while_waiting(db, program_id, waiting))
        # Shielded: a request that goes away does not cancel the decision others wait for (the loop decides it).
        decision = await asyncio.shield(future)
        return decision.applied_to(submitted)

    async def close(self) -> None:
        """On shutdown, before the database goes: let the running loops decide what still waits, then stop them."""
        loops = list(self._loops.values())
        if not loops:
            return
        _, unfinished = await asyncio.wait(loops, timeout=CLOSE_WAIT_SECONDS)
        for loop in unfinished:
            loop.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)

    async def _decide_while_waiting(
        self, db: Database, program_id: int, waiting: dict[int, asyncio.Future[Decision]]
    ) -> None:
        try:
            while waiting:
                async with db.transaction() as session:
                    decisions, batch = await decide_first_come(session, program_id, list(waiting))
                for application_id, decision in decisions.items():  # committed: now they may answer
                    future = waiting.pop(application_id, None)
                    if future is not None and not future.done():
                        future.set_result(decision)
                if not decisions and not batch:  # nothing left to decide, yet they wait: never loop on them
                    raise ServiceUnavailable(
                        "the application could not be decided; send it again to read its state",
                        code="decision_pending",
                    )
        except BaseException as exc:  # every request waiting now gets the failure (the applications stay submitted)
            if not isinstance(exc, asyncio.CancelledError | ServiceUnavailable):
                log.exception("first-come decisions of programme %s failed", program_id)
            for future in waiting.values():
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):  # the process is stopping
                    future.cancel()
                else:
                    future.set_exception(exc)
            waiting.clear()
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            del self._loops[program_id]
            if self._waiting.get(program_id) is waiting and not waiting:
                del self._waiting[program_id]
