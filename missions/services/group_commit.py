"""Group commit for POST /api/v1/events: concurrent small requests share one `events_ingest`.

Under ASGI each request runs in its own thread. A request whose batch is small joins a queue
in its process; at most MISSIONS_INGEST_GROUP_FLIGHTS groups are in flight per process. A
request that finds a free flight takes every queued request with it and runs them as one
batch (one user check, one lock statement, one log insert, the same loads and writes, one
commit); the others wait and the next free flight takes whoever queued meanwhile. Nothing
waits on a timer: alone, a request runs at once.

Each request still gets its own answer, and only after the commit of the batch that holds
its events: its accepted, duplicate and rejected events (rejections indexed within its own
batch). A failing batch (a deadlock's 409, the database's 503) fails every request in it,
each of which may be resent as it is (event ids make resending safe).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from ..event_validation import Rejection
from .ingest import IngestResult, events_ingest


@dataclass(eq=False)
class _Request:
    events: list[Any]
    taken: bool = False
    done: bool = False
    result: IngestResult | None = None
    error: Exception | None = None


@dataclass
class _Queue:
    lock: threading.Condition = field(default_factory=threading.Condition)
    waiting: list[_Request] = field(default_factory=list)
    flights: int = 0


_QUEUE = _Queue()


def events_ingest_grouped(*, events: Sequence[Any]) -> IngestResult:
    """`events_ingest` for one request, committed together with the concurrent ones."""
    request = _Request(list(events))
    queue = _QUEUE
    with queue.lock:
        queue.waiting.append(request)
    while True:
        with queue.lock:
            while not request.done and (
                request.taken or queue.flights >= max(1, settings.MISSIONS_INGEST_GROUP_FLIGHTS)
            ):
                queue.lock.wait()
            if request.done:
                break
            queue.flights += 1
            group = _take(queue.waiting)
        try:
            _run(group)  # usually holds this request; if the batch was full, the next one will
        finally:
            with queue.lock:
                queue.flights -= 1
                queue.lock.notify_all()
    if request.error is not None:
        raise request.error
    assert request.result is not None
    return request.result


def _take(waiting: list[_Request]) -> list[_Request]:
    """The queued requests, oldest first, up to a full batch (at least one)."""
    group: list[_Request] = []
    size = 0
    while waiting and (not group or size + len(waiting[0].events) <= settings.MISSIONS_MAX_BATCH):
        request = waiting.pop(0)
        request.taken = True
        size += len(request.events)
        group.append(request)
    return group


def _run(group: list[_Request]) -> None:
    combined = [event for request in group for event in request.events]
    try:
        result = events_ingest(events=combined)
    except Exception as exc:  # every request of the batch gets the batch's failure
        for request in group:
            request.error = exc
            request.done = True
        return
    accepted = set(result.accepted_indexes)
    rejected = {r.index: r for r in result.rejected}
    start = 0
    for request in group:
        own = range(start, start + len(request.events))
        mine = IngestResult(
            accepted=sum(1 for i in own if i in accepted),
            rejected=[
                Rejection(i - start, rejected[i].id, rejected[i].errors)
                for i in own
                if i in rejected
            ],
        )
        mine.duplicates = len(request.events) - mine.accepted - len(mine.rejected)
        mine.accepted_indexes = [i - start for i in own if i in accepted]
        request.result = mine
        request.done = True
        start += len(request.events)
