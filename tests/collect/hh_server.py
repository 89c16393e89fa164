"""A real HTTP server on loopback answering in the hh.ru API's format, scriptable per test.

It serves ``GET /vacancies`` (search with ``text``/``page``/``per_page``, the
documented depth limit answered with ``400 bad_argument``), ``GET
/vacancies/{id}`` (full objects, ``404 not_found`` for missing ones) and
``GET /professional_roles``, from the fixtures in ``tests/fixtures/hh``. Tests
queue scripted answers per path (429 with ``Retry-After``, 500s, slow
answers, malformed JSON, ...) and read back every request it received.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hh"
SHORT_FIELDS = (
    "id", "premium", "name", "department", "has_test", "response_letter_required", "area",
    "salary", "type", "address", "response_url", "published_at", "created_at", "archived",
    "apply_alternate_url", "insider_interview", "url", "alternate_url", "relations", "employer",
    "contacts", "schedule", "working_days", "working_time_intervals", "working_time_modes",
    "accept_temporary", "professional_roles", "accept_incomplete_resumes", "experience",
    "employment",
)  # fmt: skip
_SECTION = re.compile(r"<strong>(?P<title>[^<:]+):</strong></p>\s*<ul>(?P<items>.*?)</ul>", re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)
_TAG = re.compile(r"<[^>]+>")


def load_fixture(name: str) -> Any:
    """One JSON fixture from ``tests/fixtures/hh``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def numbered_vacancies(count: int, first_id: int = 93000001) -> list[dict[str, Any]]:
    """``count`` full vacancy objects: the fixtures again and again, each with its own id."""
    base = load_fixture("vacancies.json")
    result = []
    for i in range(count):
        vacancy = copy.deepcopy(base[i % len(base)])
        new_id = str(first_id + i)
        vacancy["id"] = new_id
        vacancy["alternate_url"] = f"https://hh.ru/vacancy/{new_id}"
        vacancy["apply_alternate_url"] = (
            f"https://hh.ru/applicant/vacancy_response?vacancyId={new_id}"
        )
        result.append(vacancy)
    return result


def snippet(description: str, query: str) -> dict[str, str | None]:
    """The search snippet the API derives from a description, the query in ``highlighttext``."""
    sections = {m["title"].strip(): m["items"] for m in _SECTION.finditer(description)}

    def part(title: str) -> str | None:
        items = [_TAG.sub("", i).strip() for i in _ITEM.findall(sections.get(title, ""))]
        text = ". ".join(items) + "." if items else ""
        if not text:
            return None
        if len(text) > 150:
            text = text[:147].rsplit(" ", 1)[0] + "..."
        if query:
            text = re.sub(
                f"({re.escape(query)}\\w*)", r"<highlighttext>\1</highlighttext>", text, flags=re.I
            )
        return text

    return {"requirement": part("Требования"), "responsibility": part("Обязанности")}


def short_item(vacancy: dict[str, Any], query: str, api_url: str) -> dict[str, Any]:
    """The search-result form of a full vacancy object, as ``GET /vacancies`` gives it."""
    item = {key: copy.deepcopy(vacancy[key]) for key in SHORT_FIELDS if key in vacancy}
    item["url"] = f"{api_url}/vacancies/{vacancy['id']}"
    item["snippet"] = snippet(vacancy.get("description", ""), query)
    return item


def error_body(error_type: str, value: str | None = None) -> dict[str, Any]:
    """The API's error format."""
    error: dict[str, Any] = {"type": error_type}
    if value is not None:
        error["value"] = value
    return {"errors": [error]}


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → sent as is; None → the normal answer
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class HHTestServer:
    """The server's state; ``url`` is its base address once started."""

    def __init__(self, vacancies: list[dict[str, Any]], depth_limit: int = 2000) -> None:
        self.vacancies = {str(v["id"]): v for v in vacancies}
        self.order = [str(v["id"]) for v in vacancies]
        self.roles = load_fixture("professional_roles.json")
        self.depth_limit = depth_limit
        self.missing: set[str] = set()
        self.detail_delay_s = 0.0
        self.found_override: int | None = None
        self.requests: list[Seen] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    # --- scripting and inspection -------------------------------------------------------

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests for ``path`` with ``replies``, then normally again."""
        with self._lock:
            self._scripts.setdefault(path, []).extend(replies)

    def seen(self, path: str) -> list[Seen]:
        """Requests for ``path``, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def detail_counts(self) -> Counter[str]:
        """How often each vacancy's details were requested."""
        with self._lock:
            return Counter(
                r.path.rsplit("/", 1)[1] for r in self.requests if r.path.startswith("/vacancies/")
            )

    def search_pages(self) -> list[int]:
        """The ``page`` of every search request, in order."""
        return [int(r.query.get("page", "0")) for r in self.seen("/vacancies")]

    # --- answers ------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> Reply:
        """The normal answer of the API for a request (no scripting)."""
        if path == "/professional_roles":
            return Reply(body=self.roles)
        if path == "/vacancies":
            return self._search(query)
        match = re.fullmatch(r"/vacancies/(\w+)", path)
        if match:
            vacancy_id = match[1]
            if vacancy_id in self.missing or vacancy_id not in self.vacancies:
                return Reply(404, error_body("not_found"))
            return Reply(body=self.vacancies[vacancy_id], delay_s=self.detail_delay_s)
        return Reply(404, error_body("not_found"))

    def _search(self, query: dict[str, str]) -> Reply:
        try:
            page = int(query.get("page", "0"))
            per_page = int(query.get("per_page", "20"))
        except ValueError:
            return Reply(400, error_body("bad_argument", "page"))
        if not 0 < per_page <= 100 or page < 0:
            return Reply(400, error_body("bad_argument", "per_page"))
        if (page + 1) * per_page > self.depth_limit:
            return Reply(400, error_body("bad_argument", "page"))
        text = query.get("text", "").lower()
        hits = [
            self.vacancies[i]
            for i in self.order
            if text in (self.vacancies[i]["name"] + self.vacancies[i]["description"]).lower()
        ]
        found = len(hits) if self.found_override is None else self.found_override
        items = [
            short_item(v, query.get("text", ""), self.url)
            for v in hits[page * per_page : (page + 1) * per_page]
        ]
        body = {
            "items": items,
            "found": found,
            "pages": math.ceil(found / per_page),
            "per_page": per_page,
            "page": page,
            "clusters": None,
            "arguments": None,
            "alternate_url": f"https://hh.ru/search/vacancy?text={query.get('text', '')}",
        }
        return Reply(body=body)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(
                Seen(
                    time.monotonic(), parts.path, query, {k: v for k, v in handler.headers.items()}
                )
            )
            scripted = self._scripts.get(parts.path)
            reply = scripted.pop(0) if scripted else None
        normal = self.answer(parts.path, query)
        if reply is None:
            reply = normal
        elif reply.body is None:
            reply = Reply(reply.status, normal.body, reply.headers, reply.delay_s)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if isinstance(reply.body, bytes):
            payload = reply.body
        elif isinstance(reply.body, str):
            payload = reply.body.encode()
        else:
            payload = json.dumps(reply.body, ensure_ascii=False).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and hung up; that is the point of some tests

    # --- lifecycle ----------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[HHTestServer]:
        """Serve on 127.0.0.1 on a free port in a background thread."""
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                state._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
