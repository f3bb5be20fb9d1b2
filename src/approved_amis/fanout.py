"""The region fan-out: scans run on a bounded pool of threads, and a scan may start further scans (an
account's regions once its role is assumed). One place for the bounds, for every command."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Regions of one account scanned at once.
MAX_REGION_WORKERS = 4
# Account × region scans at once across an organization (--max-workers); each holds one page in flight and
# one call to AWS at a time, so a higher number buys latency hiding, not load on any one account and region.
DEFAULT_ORGANIZATION_WORKERS = 32
MAX_ORGANIZATION_WORKERS = 64


def map_regions(scan: Callable[[T], R], items: Iterable[T], workers: int = MAX_REGION_WORKERS) -> list[R]:
    """scan(item) for every item, at most `workers` at once; the results in the items' order."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(scan, items))


def failures_note(failed: list[str], scanned: bool) -> str:
    """The end of a summary line naming what failed: `; partial scan, failed: a, b` when something else
    was scanned, `; failed: a, b` when nothing was, "" when nothing failed."""
    if not failed:
        return ""
    return f"; {'partial scan, ' if scanned else ''}failed: {', '.join(failed)}"


class FanOut:
    """A bounded pool whose tasks may submit more tasks; `join()` waits for all of them.

    A task that raises stops nothing else: the first such exception is raised again by `join()`.
    """

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._pending = 0
        self._done = threading.Condition()
        self._failure: BaseException | None = None

    def submit(self, task: Callable[..., Any], *args: Any) -> None:
        with self._done:
            self._pending += 1
        self._pool.submit(self._run, task, args)

    def _run(self, task: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            task(*args)
        except BaseException as failure:  # noqa: BLE001 -- handed to join()
            with self._done:
                self._failure = self._failure or failure
        finally:
            with self._done:
                self._pending -= 1
                self._done.notify_all()

    def join(self) -> None:
        with self._done:
            self._done.wait_for(lambda: self._pending == 0)
        self._pool.shutdown()
        if self._failure is not None:
            raise self._failure
