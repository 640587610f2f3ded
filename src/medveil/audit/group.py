"""Group commit: many threads' single appends share one durable transaction.

A durable commit costs an fsync, which caps single appends at a few thousand
per second. A server handling concurrent requests can instead hand each event
to a :class:`GroupCommitter`: one writer thread drains everything queued
(up to ``max_batch``) into a single ``append_many``, and each caller's
``append`` returns its index only once that transaction is committed, so the
durable-before-return and fail-closed promises are unchanged. Events are
validated when constructed, so a batch fails only when storage does, and then
every caller in it gets the :class:`AuditError`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from types import TracebackType

from medveil.audit.errors import AuditError
from medveil.audit.event import AuditEvent
from medveil.audit.log import AuditLog

_Request = tuple[Sequence[AuditEvent], "Future[list[int]]"]


class GroupCommitter:
    """Thread-safe ``append``/``append_many`` that commit concurrent callers together."""

    def __init__(self, log: AuditLog, *, max_batch: int = 10_000) -> None:
        self._log = log
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._writer = threading.Thread(target=self._run, name="audit-group-commit", daemon=True)
        self._writer.start()

    def append(self, event: AuditEvent) -> int:
        """Record ``event``; returns its index once durable, raises AuditError otherwise."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[int]:
        """Record ``events`` (all in the same transaction); durable on return."""
        future: Future[list[int]] = Future()
        with self._close_lock:
            if self._closed:
                raise AuditError("audit group committer is closed")
            self._queue.put((list(events), future))
        return future.result()

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread (the log stays open)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._writer.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            count = len(first[0])
            while count < self._max_batch:
                try:
                    request = self._queue.get_nowait()
                except queue.Empty:
                    break
                if request is None:
                    stopping = True
                    break
                batch.append(request)
                count += len(request[0])
            self._commit(batch)

    def _commit(self, batch: list[_Request]) -> None:
        events = [event for request_events, _ in batch for event in request_events]
        try:
            indices = self._log.append_many(events)
        except Exception as exc:  # every waiting caller must learn that it failed
            error = exc if isinstance(exc, AuditError) else AuditError(f"audit append: {exc}")
            for _, future in batch:
                future.set_exception(error)
            return
        position = 0
        for request_events, future in batch:
            future.set_result(indices[position : position + len(request_events)])
            position += len(request_events)
