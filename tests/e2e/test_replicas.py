"""Two `vacrec serve` replicas on one PostgreSQL schema behave as one service.

A deployment runs several replicas behind a load balancer, so a seeker's
feedback may reach another replica than the one that served the
recommendation, and training and ingest run elsewhere. What must hold:

- every event and every rating lands exactly once, whichever replica took it,
  even when two replicas are asked to rate the same event at the same moment;
- a promotion (`vacrec train`), a rollback (`vacrec model rollback`) and a
  catalog ingest (`vacrec ingest`) reach every replica within its poll interval,
  with nothing but the database between them.

Each propagation is timed from the row the command committed (its timestamp in
the database, so a command's own exit time does not flatter the figure) to the
first answer of each replica that shows it, and printed as one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from tests.proof import RecordProperty, report_figures
from tests.serve_process import READY_TIMEOUT_S, ServeProcess, vacrec_env
from tests.service.conftest import seed_catalog
from tests.store_checks import integrity_problems
from vacrec.store.db import _PG_MIGRATION_LOCK as MIGRATION_LOCK
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import catalog_versions, events, feedback, heartbeats, model_promotions

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MODEL_POLL_S = 0.5
CATALOG_POLL_S = 1.0
SLACK_S = 2.0
"""Allowed beyond one poll interval: loading the model or building the snapshot, on two
CPU cores shared with the other replica, the command and the test itself."""
WATCH_EVERY_S = 0.02
ROUNDS = 16  # recommendations per phase and replica
PREFERENCES = ["акварель", "игры unity персонажи", "реклама баннеры", "театр декорации", ""]

NEW_GROUP = "Строительство, недвижимость"
NEW_WORDS = "фасад мозаика витраж подъезд"
NEW_IDS = [f"9{i:02d}" for i in range(4)]


# --- helpers ---------------------------------------------------------------------------------


def _vacrec(env: dict[str, str], *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run a ``vacrec`` command to the end; its ``--json`` result (last line of stdout)."""
    done = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", *args, "--json"],
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


class Watch:
    """Polls every replica's ``path`` in a thread until ``shows(body)`` holds on each;
    records the wall-clock moment each replica first showed it.

    Started before the command whose effect it waits for, so no moment is missed.
    """

    def __init__(
        self, replicas: dict[str, ServeProcess], path: str, shows: Callable[[Any], bool]
    ) -> None:
        self.replicas, self.path, self.shows = replicas, path, shows
        self.seen_at: dict[str, float] = {}
        self._stop = threading.Event()
        for name, replica in replicas.items():  # a watch that holds already proves nothing
            assert not shows(httpx.get(replica.url + path, timeout=5).json()), name
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set() and len(self.seen_at) < len(self.replicas):
                for name, replica in self.replicas.items():
                    if name not in self.seen_at and self.shows(
                        client.get(replica.url + self.path).json()
                    ):
                        self.seen_at[name] = time.time()
                time.sleep(WATCH_EVERY_S)

    def wait(self, since: datetime, within_s: float) -> dict[str, float]:
        """Seconds from ``since`` (a committed row's timestamp) to each replica showing it;
        each must be at most ``within_s``."""
        self._thread.join(max(0.0, since.timestamp() + within_s - time.time()) + 1.0)
        self._stop.set()
        missing = sorted(set(self.replicas) - set(self.seen_at))
        assert not missing, f"{missing} never showed {self.path}"
        took = {n: round(t - since.timestamp(), 3) for n, t in sorted(self.seen_at.items())}
        assert max(took.values()) <= within_s, f"{self.path}: {took} (at most {within_s} s)"
        return took


def _recommend(client: httpx.Client, skill: str, preference: str, **extra: Any) -> dict[str, Any]:
    body = {"age": 30, "skill": skill, "preference": preference, **extra}
    response = client.post("/api/v1/recommendations", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _votes(rec: dict[str, Any], vote: int) -> dict[str, Any]:
    """Every card rated ``vote``; a page without cards sends the sum instead."""
    if not rec["items"]:
        return {"event_id": rec["event_id"], "cum_reward": vote}
    votes = [{"vacancy_id": item["id"], "vote": vote} for item in rec["items"]]
    return {"event_id": rec["event_id"], "votes": votes}


def _version_not_in(known: list[int | None]) -> Callable[[Any], bool]:
    """``/api/v1/model`` shows a version other than ``known`` (seen before the command ends)."""
    return lambda body: body["version"] not in known


def _newest(engine: Engine, column: Any) -> datetime:
    with engine.connect() as conn:
        return conn.execute(select(func.max(column))).scalar_one()


def _new_group_file(path: Path) -> Path:
    """Four vacancies of a group the seeded catalog lacks, with words no other posting has."""
    rows = [
        {
            "id": vacancy_id,
            "name": f"Художник-оформитель {i}",
            "description": f"Роспись и оформление: {NEW_WORDS}. Объект {i}.",
            "industries": [NEW_GROUP],
            "company": "Стройдекор",
            "salary": 70000,
            "url": f"https://example.org/v/{vacancy_id}",
            "logo": None,
            "area": "Москва",
            "published_at": f"2024-05-0{i + 1}T10:00:00+03:00",
        }
        for i, vacancy_id in enumerate(NEW_IDS)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def store(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _start_replicas(env: dict[str, str], tmp_path: Path) -> dict[str, ServeProcess]:
    """Two replicas started at the same moment (each on its own port, with its own log)."""
    return {name: ServeProcess.start(env, tmp_path / f"serve-{name}.log") for name in "AB"}


# --- the proofs ------------------------------------------------------------------------------


def test_two_replicas_share_events_models_and_catalog(
    postgres_url: str, store: Engine, tmp_path: Path, record_property: RecordProperty
) -> None:
    migrate(store)
    seed_catalog(store, tmp_path)
    env = vacrec_env(
        tmp_path / "home",
        postgres_url,
        VACREC_MODEL_POLL_S=str(MODEL_POLL_S),
        VACREC_CATALOG_POLL_S=str(CATALOG_POLL_S),
    )
    replicas = _start_replicas(env, tmp_path)
    clients = {n: httpx.Client(base_url=r.url, timeout=30) for n, r in replicas.items()}
    figures: dict[str, Any] = {"model_poll_s": MODEL_POLL_S, "catalog_poll_s": CATALOG_POLL_S}
    try:
        for replica in replicas.values():
            replica.wait_ready()
        other = {"A": "B", "B": "A"}
        skills = clients["A"].get("/api/v1/skills").json()["skills"]

        # 1. Served by one replica, rated through the other; the second rating is a 409.
        served: set[str] = set()
        acknowledged: dict[str, float] = {}
        for i in range(ROUNDS * 2):
            name = "AB"[i % 2]
            rec = _recommend(clients[name], skills[i % len(skills)], PREFERENCES[i % 5])
            served.add(rec["event_id"])
            rated = clients[other[name]].post("/api/v1/feedback", json=_votes(rec, 1))
            assert rated.status_code == 200, rated.text
            acknowledged[rec["event_id"]] = rated.json()["reward"]
            again = clients[name].post("/api/v1/feedback", json=_votes(rec, -1))
            assert again.status_code == 409, again.text

        # 2. Both replicas asked to rate the same event at once (opposite votes): one wins.
        racing = [
            _recommend(clients["AB"[i % 2]], skills[i % len(skills)], PREFERENCES[i % 5])
            for i in range(ROUNDS * 2)
        ]
        served.update(rec["event_id"] for rec in racing)

        start_together = threading.Barrier(2)

        def rate(name: str, rec: dict[str, Any], vote: int) -> httpx.Response:
            with httpx.Client(base_url=replicas[name].url, timeout=30) as client:
                client.get("/healthz")  # connected before the barrier: only the rating races
                start_together.wait()
                return client.post("/api/v1/feedback", json=_votes(rec, vote))

        wins = {"A": 0, "B": 0}
        with ThreadPoolExecutor(max_workers=2) as pool:
            for rec in racing:
                both = {"A": pool.submit(rate, "A", rec, 1), "B": pool.submit(rate, "B", rec, -1)}
                answers = {name: future.result() for name, future in both.items()}
                assert sorted(a.status_code for a in answers.values()) == [200, 409], answers
                winner = next(n for n, a in answers.items() if a.status_code == 200)
                wins[winner] += 1
                acknowledged[rec["event_id"]] = answers[winner].json()["reward"]

        with store.connect() as conn:
            stored_events = set(conn.execute(select(events.c.id)).scalars())
            rows = conn.execute(select(feedback.c.event_id, feedback.c.reward))
            stored = {row.event_id: row.reward for row in rows}
        assert stored_events == served
        assert stored == acknowledged  # one row per acknowledged rating, with the winner's reward
        figures.update(events=len(served), ratings=len(acknowledged), race_wins=wins)

        # 3. An ingest that adds an industry group reaches both within the catalog poll.
        watch = Watch(
            replicas,
            "/api/v1/industries",
            lambda body: NEW_GROUP in [i["industry"] for i in body["industries"]],
        )
        report = _vacrec(env, "ingest", str(_new_group_file(tmp_path / "new-group.jsonl")))
        assert report["inserted"] == len(NEW_IDS)
        # The ingest builds the version's snapshot after committing it (replicas wait for it
        # and map it rather than build it themselves): a poll after that build.
        build_s = float(report["snapshot_seconds"] or 0.0)
        figures["catalog_s"] = watch.wait(
            _newest(store, catalog_versions.c.created_at), build_s + CATALOG_POLL_S + SLACK_S
        )
        figures["catalog_build_s"] = build_s
        for name, client in clients.items():  # the content prior picks it for its own words
            rec = _recommend(client, skills[0], NEW_WORDS, explore=False)
            assert rec["action"]["industry"] == NEW_GROUP, name
            assert {item["id"] for item in rec["items"]} == set(NEW_IDS), name

        # 4. Promotions by `vacrec train` and a rollback reach both within the model poll.
        versions: list[int] = []
        for step in ("first", "second"):
            watch = Watch(replicas, "/api/v1/model", _version_not_in([None, *versions]))
            trained = _vacrec(env, "train", "--updates", "200", "--promote", "always")
            assert trained["promoted"]
            versions.append(trained["version"])
            figures[f"{step}_promotion_s"] = watch.wait(
                _newest(store, model_promotions.c.promoted_at), MODEL_POLL_S + SLACK_S
            )
            for name, client in clients.items():  # the version trained, and serving with it
                assert client.get("/api/v1/model").json()["version"] == versions[-1], name
                rec = _recommend(client, skills[0], "акварель")
                assert rec["model_version"] == versions[-1], name
            # a new rating: a training with nothing new since the last model registers nothing
            assert client.post("/api/v1/feedback", json=_votes(rec, 1)).status_code == 200

        watch = Watch(replicas, "/api/v1/model", lambda body: body["version"] == versions[0])
        assert _vacrec(env, "model", "rollback")["live"] == versions[0]
        figures["rollback_s"] = watch.wait(
            _newest(store, model_promotions.c.promoted_at), MODEL_POLL_S + SLACK_S
        )
        for name, client in clients.items():
            assert _recommend(client, skills[0], "акварель")["model_version"] == versions[0], name

        assert integrity_problems(store) == []
    finally:
        for client in clients.values():
            client.close()
        for replica in replicas.values():
            replica.stop()
    report_figures(record_property, "replicas", figures)


def _waiting_for_migration_lock(engine: Engine, tag: str) -> int:
    """How many connections named ``tag`` wait for the migration's advisory lock."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = :key AND NOT l.granted "
                "AND a.application_name = :tag"
            ),
            {"key": MIGRATION_LOCK, "tag": tag},
        ).scalar_one()


def test_replicas_started_together_on_an_empty_schema_both_become_ready(
    postgres_url: str, store: Engine, tmp_path: Path, record_property: RecordProperty
) -> None:
    """Both reach the migration at the same moment; one migrates, the other finds it done.

    Two processes' imports take different times, so merely starting them together
    rarely makes their migrations overlap. The test holds the migration lock until
    both replicas wait for it, then lets go: from there on they race for real
    (the migration, then the demo catalog an empty store gets). The lock is
    database-wide, so other tests' servers may wait those few seconds too.
    """
    tag = f"vacrec-replicas-{uuid.uuid4().hex[:8]}"
    env = vacrec_env(tmp_path / "home", f"{postgres_url}&{urlencode({'application_name': tag})}")
    with store.connect() as gate:
        gate.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        gate.commit()
        replicas = _start_replicas(env, tmp_path)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while _waiting_for_migration_lock(store, tag) < len(replicas):
                assert time.monotonic() < deadline, "the replicas never both reached migrate"
                time.sleep(0.05)
        finally:
            gate.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            gate.commit()
    try:
        released = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:
            ready = {n: pool.submit(r.wait_ready) for n, r in replicas.items()}
            for future in ready.values():
                future.result()
        ready_s = round(time.monotonic() - released, 3)
        catalogs = {
            name: httpx.get(f"{r.url}/api/v1/industries", timeout=5).json()
            for name, r in replicas.items()
        }
    finally:
        for replica in replicas.values():
            replica.stop()
    with store.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(catalog_versions)).scalar_one() == 1
        beats = conn.execute(select(func.count()).select_from(heartbeats)).scalar_one()
    assert beats >= 2  # each replica committed its own readiness heartbeat
    assert catalogs["A"] == catalogs["B"] and catalogs["A"]["industries"]
    logs = [r.log.read_text(errors="replace") for r in replicas.values()]
    assert sum("loaded the demo catalog (" in log for log in logs) == 1  # only the one that did
    assert integrity_problems(store) == []
    report_figures(record_property, "replicas_cold_start", {"both_ready_after_release_s": ready_s})
