"""Property-based fuzz of every route in the OpenAPI schema (schemathesis + Hypothesis).

A real app on loopback over a seeded store answers generated requests, valid
(``positive``) and invalid (``negative``) per the schema it publishes. Every
answer must be documented: no 5xx, a status code the operation lists, a body
and content type matching the documented response, and invalid input refused.
Purely random strings almost never name a known skill or a served event, so
valid cases get a real skill, and feedback a real event and its shown
vacancies, part of the time: that is what reaches the 200/409 paths.

CI: a bounded number of examples per operation, derandomised (the same cases
every run). ``VACREC_PROOF_FULL=1``: many more, freshly random.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.proof import RecordProperty, report_figures
from tests.service.conftest import Server, ServerFactory
from vacrec.service.body_limit import MAX_BODY_BYTES

CI_EXAMPLES = 60
FULL_EXAMPLES = 400
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _takes_input(operation: Any) -> bool:
    """Negative cases need something to break: a parameter or a body."""
    return any(True for _ in operation.iter_parameters()) or bool(list(operation.body))


Prepare = Callable[[Any, st.DataObject], None]


def _fuzzer(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    prepare: Prepare | None,
    statuses: Counter[str],
    examples: int,
    full: bool,
) -> Callable[[], None]:
    """A Hypothesis test of one operation in one mode; it raises the shrunk failure."""

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no .hypothesis/ folder in the work tree
        derandomize=not full,  # CI: the same cases every run
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any, data: st.DataObject) -> None:
        if prepare is not None:
            prepare(case, data)
        response = case.call(base_url=base_url, timeout=30)
        statuses[str(response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    return fuzz


@pytest.mark.slow
def test_every_route_answers_as_documented(
    make_server: ServerFactory, proof_full: bool, record_property: RecordProperty
) -> None:
    server = make_server()
    client = server.client
    skills: list[str] = client.get("/api/v1/skills").json()["skills"]

    def served_event(skill: str) -> dict[str, Any]:
        request = {"age": 30, "skill": skill}
        return request | client.post("/api/v1/recommendations", json=request).json()

    def make_realistic(case: Any, data: st.DataObject) -> None:
        """Swap generated values for ones the store knows, some of the time (valid cases only).

        The schema cannot say which skills exist (settings extend the vocabulary), which
        events were served, or how large a sum of votes fits the cards shown.
        """
        for part in (case.body, case.query):
            if not isinstance(part, dict):
                continue
            if "skill" in part and data.draw(st.booleans(), label="known skill"):
                part["skill"] = data.draw(st.sampled_from(skills), label="skill")
            if "event_id" in part and data.draw(st.booleans(), label="served event"):
                event = served_event(data.draw(st.sampled_from(skills), label="event skill"))
                part["event_id"] = event["event_id"]
                shown = [item["id"] for item in event["items"]]
                if "action" in part:  # the legacy write must repeat the event's own state
                    part.update(age=30, skill=event["skill"], action=event["action"]["index"])
                if isinstance(part.get("cum_reward"), int):
                    bound = len(shown)
                    part["cum_reward"] = data.draw(st.integers(-bound, bound), label="sum")
                for vote in part.get("votes") or []:
                    if shown and data.draw(st.booleans(), label="shown vacancy"):
                        vote["vacancy_id"] = data.draw(st.sampled_from(shown), label="vacancy")
                if data.draw(st.booleans(), label="rate twice"):
                    case.call(base_url=server.url, timeout=30)  # the case's own call: 409

    examples = FULL_EXAMPLES if proof_full else CI_EXAMPLES
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
                continue
            prepare = make_realistic if mode is GenerationMode.POSITIVE else None
            fuzz = _fuzzer(operation, mode, server.url, prepare, statuses, examples, proof_full)
            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as error:  # report every operation's failure
                failures.append(f"{operation.label} ({mode.value}): {error}")

    report_figures(
        record_property,
        "fuzz",
        {
            "database": server.engine.dialect.name,
            "full": proof_full,
            "operations": operations,
            "max_examples_per_operation_and_mode": examples,
            "requests": sum(statuses.values()),
            "statuses": dict(sorted(statuses.items())),
            "failures": len(failures),
            "seconds": round(time.monotonic() - started, 1),
        },
    )
    assert operations >= 10  # the schema really lists the API, not an empty document
    assert not failures, "\n\n".join(failures)
    assert statuses["200"] > 0 and statuses["422"] > 0  # both valid and refused cases ran


def test_oversized_bodies_are_refused_as_documented(server: Server) -> None:
    """Generated bodies stay small, so the 64 KiB cap (413) is checked here, on every body."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    posts = [op for r in schema.get_all_operations() if (op := r.ok()).method.upper() == "POST"]
    assert len(posts) >= 3
    for operation in posts:
        case = operation.Case(body={"skill": "x" * (MAX_BODY_BYTES + 1)})
        response = case.call(base_url=server.url, timeout=30)
        assert response.status_code == 413, operation.label
        case.validate_response(response, checks=CHECKS[:-1])  # invalid input: refusal expected
