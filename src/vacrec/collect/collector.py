"""Collect fresh vacancies: page through search, then fetch details concurrently, resumably.

The output is JSONL of full API vacancy objects (plus the ``vacrec``
extension key with the mapped industries), the same format ``vacrec ingest``
reads. It is only ever appended to in whole lines, flushed and fsynced per
batch, so a killed run leaves complete lines (at worst the last batch is
missing). A new run first cuts off a trailing partial line, then skips every
id already in the file; a vacancy that failed (404, timeout, ...) is not
written, so the next run tries it again and nothing is lost. A run that
leaves the file empty (the server was unreachable, nothing matched) removes
it, so no empty file suggests a collection that did not happen.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vacrec.collect.client import FetchError, HHClient
from vacrec.collect.roles import SOURCE_ROLE_CATEGORY, SOURCE_UNMAPPED, annotate, role_categories

DEPTH_LIMIT = 2000
"""The API returns no result past position 2000 of a search (``page * per_page``)."""
MAX_PER_PAGE = 100
"""The API's largest ``per_page``."""
_NO_ITEMS = "the answer is not a search page (no items list)"


class OutputFileError(ValueError):
    """The output file exists but is not a JSONL of vacancy objects; we will not append to it."""


class SearchFailed(RuntimeError):
    """The first search page could not be fetched, so nothing is known about the results."""

    def __init__(self, error: FetchError) -> None:
        self.error = error
        super().__init__(f"search failed: {error}")


@dataclass(frozen=True)
class CollectParams:
    """What to collect and how hard to push."""

    query: str
    area: str | None = None
    per_page: int = MAX_PER_PAGE
    max_pages: int | None = None
    concurrency: int = 4
    batch_size: int = 20
    depth_limit: int = DEPTH_LIMIT

    def __post_init__(self) -> None:
        if not self.query.strip():
            raise ValueError("query: must not be empty")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page: must be between 1 and {MAX_PER_PAGE}")
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("max_pages: must be at least 1")
        if self.concurrency < 1:
            raise ValueError("concurrency: must be at least 1")
        if self.batch_size < 1:
            raise ValueError("batch_size: must be at least 1")


@dataclass
class CollectSummary:
    """What one run did; ``failures`` counts vacancies not written, by cause."""

    out: str
    pages: int = 0
    found: int = 0
    listed: int = 0
    written: int = 0
    skipped_existing: int = 0
    duplicates: int = 0
    retries: int = 0
    requests: int = 0
    truncated_bytes: int = 0
    roles_dictionary: bool = False
    failures: dict[str, int] = field(default_factory=dict)
    page_failures: dict[str, int] = field(default_factory=dict)
    industry_sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


@dataclass
class Progress:
    """Callbacks a progress bar hooks into; all optional."""

    on_pages: Callable[[int, int], None] | None = None  # (done, total)
    on_details_total: Callable[[int], None] | None = None
    on_detail: Callable[[], None] | None = None


def pages_within_depth(
    per_page: int, pages: int, max_pages: int | None = None, depth_limit: int = DEPTH_LIMIT
) -> int:
    """How many pages to request: the API's count, capped by ``--max-pages`` and the depth."""
    allowed = depth_limit // per_page
    return max(0, min(pages, allowed, max_pages if max_pages is not None else pages))


def prepare_output(path: Path) -> tuple[set[str], int]:
    """Ids already in ``path`` and how many bytes of a trailing partial line were cut off."""
    if not path.exists():
        return set(), 0
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    truncated = len(data) - keep
    if truncated:
        os.truncate(path, keep)
    ids: set[str] = set()
    for number, line in enumerate(data[:keep].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise OutputFileError(f"{path}:{number}: not a JSON line ({exc})") from exc
        if not isinstance(obj, dict) or obj.get("id") is None:
            raise OutputFileError(f"{path}:{number}: not a vacancy object with an id")
        ids.add(str(obj["id"]))
    return ids, truncated


class JsonlAppender:
    """Appends whole lines, one ``write`` + ``fsync`` per batch, holding an exclusive lock.

    The lock (``flock``) stops a second collection from appending to the same
    file at the same time, which would fetch and write vacancies twice.
    """

    def __init__(self, path: Path, batch_size: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._fd)
            raise OutputFileError(f"{path}: another collection is writing to this file") from exc
        self._batch_size = batch_size
        self._pending: list[bytes] = []
        self.written = 0

    def add(self, obj: dict[str, Any]) -> None:
        """Queue one object; write the batch once it is full."""
        self._pending.append(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
        if len(self._pending) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Write every queued line and make it durable."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        self.written += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        """Flush and close; remove the file if it is still empty (while the lock is held)."""
        try:
            self.flush()
            if os.fstat(self._fd).st_size == 0:
                self._path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)


async def collect(
    client: HHClient,
    params: CollectParams,
    out: Path,
    progress: Progress | None = None,
) -> CollectSummary:
    """Run one collection into ``out`` (appending); see the module docstring."""
    progress = progress or Progress()
    writer = JsonlAppender(out, params.batch_size)  # locks the file before reading it
    try:
        existing, truncated = prepare_output(out)
        summary = CollectSummary(out=str(out), truncated_bytes=truncated)
        # The search first: if the server cannot be reached, say so before anything else.
        ids = await _search(client, params, summary, progress)
        categories = await _role_categories(client, summary)
    except BaseException:
        writer.close()
        raise
    todo = [i for i in ids if i not in existing]
    summary.skipped_existing = len(ids) - len(todo)
    if progress.on_details_total:
        progress.on_details_total(len(todo))

    failures: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for vacancy_id in todo:
        queue.put_nowait(vacancy_id)

    async def worker() -> None:
        while True:
            try:
                vacancy_id = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                obj = await client.get_json(f"/vacancies/{vacancy_id}")
                if not _is_vacancy(obj, vacancy_id):
                    url = client.url_for(f"/vacancies/{vacancy_id}")
                    raise FetchError("malformed", url, "the answer is not a vacancy", status=200)
            except FetchError as exc:
                failures[exc.cause] += 1
            else:
                saved = annotate(obj, categories)
                sources[saved["vacrec"]["industry_source"]] += 1
                writer.add(saved)
            if progress.on_detail:
                progress.on_detail()

    try:
        await asyncio.gather(*(worker() for _ in range(min(params.concurrency, len(todo)))))
    finally:
        writer.close()
        summary.written = writer.written
        summary.failures = dict(failures)
        summary.industry_sources = {
            SOURCE_ROLE_CATEGORY: sources[SOURCE_ROLE_CATEGORY],
            SOURCE_UNMAPPED: sources[SOURCE_UNMAPPED],
        }
        summary.retries = client.retries
        summary.requests = client.requests
    return summary


async def _role_categories(client: HHClient, summary: CollectSummary) -> dict[str, tuple[str, ...]]:
    """The role dictionary; without it every vacancy is left to the text classifier."""
    try:
        categories = role_categories(await client.get_json("/professional_roles"))
    except FetchError:
        return {}
    summary.roles_dictionary = bool(categories)
    return categories


async def _search(
    client: HHClient, params: CollectParams, summary: CollectSummary, progress: Progress
) -> list[str]:
    """Vacancy ids of the search, in result order, each once."""
    query: dict[str, Any] = {"text": params.query, "per_page": params.per_page}
    if params.area:
        query["area"] = params.area
    try:
        first = await client.get_json("/vacancies", {**query, "page": 0})
    except FetchError as exc:
        raise SearchFailed(exc) from exc
    if not isinstance(first, dict) or not isinstance(first.get("items"), list):
        url = client.url_for("/vacancies", {**query, "page": 0})
        raise SearchFailed(FetchError("malformed", url, _NO_ITEMS, status=200))
    summary.found = _int(first.get("found"))
    total = pages_within_depth(
        params.per_page, _int(first.get("pages")), params.max_pages, params.depth_limit
    )
    ids: list[str] = []
    seen: set[str] = set()
    page_failures: Counter[str] = Counter()

    def take(items: list[Any]) -> None:
        for item in items:
            if not isinstance(item, dict) or item.get("id") is None:
                page_failures["malformed_item"] += 1
                continue
            vacancy_id = str(item["id"])
            if vacancy_id in seen:
                summary.duplicates += 1
                continue
            seen.add(vacancy_id)
            ids.append(vacancy_id)

    take(first["items"])
    summary.pages = 1
    if progress.on_pages:
        progress.on_pages(1, max(total, 1))
    for page in range(1, total):
        try:
            body = await client.get_json("/vacancies", {**query, "page": page})
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                url = client.url_for("/vacancies", {**query, "page": page})
                raise FetchError("malformed", url, _NO_ITEMS, status=200)
        except FetchError as exc:
            page_failures[exc.cause] += 1
        else:
            summary.pages += 1
            take(body["items"])
            if not body["items"]:
                break  # the result set shrank while we paged
        if progress.on_pages:
            progress.on_pages(page + 1, total)
    summary.listed = len(ids)
    summary.page_failures = dict(page_failures)
    return ids


def _is_vacancy(obj: Any, vacancy_id: str) -> bool:
    return isinstance(obj, dict) and str(obj.get("id")) == vacancy_id and bool(obj.get("name"))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
