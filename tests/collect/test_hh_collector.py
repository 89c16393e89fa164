"""The collector against a real loopback server: paging, depth, failures, resume, industries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.collect.hh_server import Reply, error_body, load_fixture, numbered_vacancies
from vacrec.collect.collector import (
    CollectParams,
    OutputFileError,
    SearchFailed,
    collect,
    pages_within_depth,
    prepare_output,
)
from vacrec.collect.roles import SOURCE_ROLE_CATEGORY, SOURCE_UNMAPPED

ALL = "откликов"
"""A query every fixture vacancy matches («Ждём ваших откликов»)."""


def lines_of(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    return [json.loads(line) for line in raw.splitlines()]


async def run(client, out: Path, **params):
    async with client:
        return await collect(client, CollectParams(**params), out)


async def test_pages_through_search_and_fetches_each_vacancy_once(
    make_server, make_client, tmp_path
):
    data = numbered_vacancies(23)
    server = make_server(data)
    out = tmp_path / "out.jsonl"
    summary = await run(
        make_client(server), out, query=ALL, per_page=5, concurrency=3, batch_size=4
    )
    assert (summary.pages, summary.found, summary.listed, summary.written) == (5, 23, 23, 23)
    assert summary.failures == {}
    assert server.search_pages() == [0, 1, 2, 3, 4]
    saved = lines_of(out)
    assert sorted(v["id"] for v in saved) == sorted(v["id"] for v in data)
    assert set(server.detail_counts().values()) == {1}
    assert saved[0]["description"].startswith("<p>")  # full objects, not search items


async def test_search_serves_the_documented_fixture_pages(hh_server, make_client, tmp_path):
    # The loopback server's pages are exactly the fixture pages written from the docs.
    async with make_client(hh_server) as client:
        for page in (0, 1):
            body = await client.get_json(
                "/vacancies", {"text": "художник", "page": page, "per_page": 5}
            )
            expected = load_fixture(f"search_page_{page}.json")
            for item in [*body["items"], *expected["items"]]:
                item.pop("url")  # the API's own address differs
            assert body == expected


async def test_max_pages_stops_early(make_server, make_client, tmp_path):
    server = make_server(numbered_vacancies(23))
    summary = await run(
        make_client(server), tmp_path / "o.jsonl", query=ALL, per_page=5, max_pages=2
    )
    assert server.search_pages() == [0, 1]
    assert summary.written == 10


async def test_respects_the_depth_limit(make_server, make_client, tmp_path):
    server = make_server(numbered_vacancies(30), depth_limit=20)
    summary = await run(
        make_client(server), tmp_path / "o.jsonl", query=ALL, per_page=6, depth_limit=20
    )
    # 20 // 6 = 3 pages; page 3 would reach result 24 > 20 and get a 400.
    assert server.search_pages() == [0, 1, 2]
    assert summary.found == 30 and summary.written == 18
    assert summary.page_failures == {}


def test_pages_within_depth_matches_the_documented_limit():
    assert pages_within_depth(per_page=10, pages=500) == 200  # page 199 is 1991..2000
    assert pages_within_depth(per_page=100, pages=500) == 20
    assert pages_within_depth(per_page=100, pages=3) == 3
    assert pages_within_depth(per_page=100, pages=30, max_pages=5) == 5
    assert pages_within_depth(per_page=100, pages=0) == 0


async def test_empty_result_leaves_no_file(hh_server, make_client, tmp_path):
    out = tmp_path / "o.jsonl"
    summary = await run(make_client(hh_server), out, query="водолаз-глубоководник")
    assert (summary.found, summary.pages, summary.written) == (0, 1, 0)
    assert hh_server.detail_counts() == {}
    assert not out.exists()


async def test_vanished_vacancy_is_a_not_found_failure_and_not_retried(
    hh_server, make_client, tmp_path
):
    hh_server.missing.add("91000004")
    out = tmp_path / "o.jsonl"
    summary = await run(make_client(hh_server), out, query=ALL, per_page=5)
    assert summary.failures == {"not_found": 1}
    assert summary.written == 11
    assert hh_server.detail_counts()["91000004"] == 1
    assert "91000004" not in {v["id"] for v in lines_of(out)}


async def test_failures_are_counted_then_recovered_by_a_rerun(make_server, make_client, tmp_path):
    data = numbered_vacancies(15)
    server = make_server(data)
    ids = [v["id"] for v in data]
    server.script(f"/vacancies/{ids[2]}", *[Reply(500, "oops")] * 3)
    server.script(f"/vacancies/{ids[5]}", *[Reply(delay_s=1.5)] * 3)
    server.script(f"/vacancies/{ids[7]}", *[Reply(200, "{broken")] * 3)
    server.script(f"/vacancies/{ids[9]}", Reply(429, error_body("too_many_requests")))
    server.script(f"/vacancies/{ids[11]}", Reply(200, {"errors": []}))  # JSON, not a vacancy
    out = tmp_path / "o.jsonl"
    first = await run(make_client(server, timeout_s=0.5), out, query=ALL, per_page=5, batch_size=3)
    assert first.failures == {"http_5xx": 1, "timeout": 1, "malformed": 2}
    assert first.written == 11
    assert first.retries == 2 + 2 + 2 + 1  # the 429 was retried and then succeeded
    assert first.requests == 1 + 3 + 15 + first.retries  # roles, pages, details, retries

    second = await run(make_client(server), out, query=ALL, per_page=5)
    assert second.skipped_existing == 11 and second.written == 4 and second.failures == {}
    saved = [v["id"] for v in lines_of(out)]
    assert sorted(saved) == sorted(ids)  # nothing lost, nothing twice
    counts = server.detail_counts()
    written_first = set(saved[:11])
    assert all(counts[i] == 1 for i in written_first if i != ids[9])  # never fetched again
    assert counts[ids[9]] == 2  # one 429 and one success


async def test_duplicate_ids_across_pages_are_fetched_once(hh_server, make_client, tmp_path):
    page1 = load_fixture("search_page_0.json")
    page1["page"] = 1
    hh_server.script("/vacancies", Reply(), Reply(body=page1))  # page 1 repeats page 0
    summary = await run(make_client(hh_server), tmp_path / "o.jsonl", query="художник", per_page=5)
    assert summary.duplicates == 5
    assert summary.written == 5
    assert set(hh_server.detail_counts().values()) == {1}


async def test_a_failed_later_page_is_counted_and_the_rest_kept(hh_server, make_client, tmp_path):
    hh_server.script("/vacancies", Reply(), *[Reply(503, "down")] * 3)
    summary = await run(make_client(hh_server), tmp_path / "o.jsonl", query="художник", per_page=5)
    assert summary.page_failures == {"http_5xx": 1}
    assert summary.written == 5


async def test_first_page_failure_raises_and_leaves_no_file(hh_server, make_client, tmp_path):
    hh_server.script("/vacancies", Reply(400, error_body("bad_argument", "text")))
    out = tmp_path / "o.jsonl"
    with pytest.raises(SearchFailed) as caught:
        await run(make_client(hh_server), out, query="художник")
    assert caught.value.error.cause == "bad_request"
    assert len(hh_server.seen("/vacancies")) == 1
    assert hh_server.seen("/professional_roles") == []  # the search fails first, alone
    assert not out.exists()


async def test_unreachable_server_keeps_an_earlier_file_as_it_was(
    hh_server, make_client, closed_port_url, tmp_path
):
    out = tmp_path / "o.jsonl"
    first = await run(make_client(hh_server), out, query="художник", per_page=5)
    before = out.read_bytes()
    with pytest.raises(SearchFailed, match="connection refused"):
        await run(make_client(closed_port_url), out, query="художник", per_page=5)
    assert out.read_bytes() == before and len(lines_of(out)) == first.written > 0
    resumed = await run(make_client(hh_server), out, query="художник", per_page=5)
    assert resumed.skipped_existing == first.written and resumed.written == 0


async def test_resume_cuts_a_partial_last_line_and_skips_saved_ids(
    hh_server, make_client, tmp_path
):
    data = load_fixture("vacancies.json")
    out = tmp_path / "o.jsonl"
    whole = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in data[:3])
    out.write_text(whole + json.dumps(data[3], ensure_ascii=False)[:200], encoding="utf-8")
    summary = await run(make_client(hh_server), out, query=ALL, per_page=5)
    assert summary.truncated_bytes > 0
    assert summary.skipped_existing == 3 and summary.written == 9
    saved = [v["id"] for v in lines_of(out)]
    assert sorted(saved) == sorted(v["id"] for v in data)
    assert not {v["id"] for v in data[:3]} & set(hh_server.detail_counts())


async def test_two_collections_never_append_to_one_file_at_once(make_server, make_client, tmp_path):
    server = make_server(numbered_vacancies(8))
    server.detail_delay_s = 0.05
    out = tmp_path / "o.jsonl"
    first = asyncio.create_task(run(make_client(server), out, query=ALL, concurrency=1))
    while not server.detail_counts():
        await asyncio.sleep(0.01)
    with pytest.raises(OutputFileError, match="another collection"):
        await run(make_client(server), out, query=ALL)
    assert (await first).written == 8
    assert [v["id"] for v in lines_of(out)] == [v["id"] for v in server.vacancies.values()]


def test_refuses_to_append_to_a_file_that_is_not_vacancies(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "1", "name": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(OutputFileError, match=":2:"):
        prepare_output(out)


async def test_industries_are_mapped_by_role_category(hh_server, make_client, tmp_path):
    out = tmp_path / "o.jsonl"
    summary = await run(make_client(hh_server), out, query=ALL, per_page=20)
    saved = {v["id"]: v["vacrec"] for v in lines_of(out)}
    assert saved["91000001"] == {
        "industries": ["Искусство, развлечения, масс-медиа"],
        "industry_source": SOURCE_ROLE_CATEGORY,
    }
    # role 25 (Гейм-дизайнер) sits in two categories; role 34 in one
    assert saved["91000002"]["industries"] == [
        "Искусство, развлечения, масс-медиа",
        "Информационные технологии, интернет, телеком",
    ]
    assert saved["91000004"]["industries"] == [
        "Искусство, развлечения, масс-медиа",
        "Маркетинг, реклама, PR",
    ]
    assert saved["91000006"]["industries"] == ["Продажи"]
    for unmapped in ("91000009", "91000010", "91000011"):  # Безопасность, Розница, Другое
        assert saved[unmapped] == {"industries": [], "industry_source": SOURCE_UNMAPPED}
    assert summary.industry_sources == {SOURCE_ROLE_CATEGORY: 9, SOURCE_UNMAPPED: 3}
    assert summary.roles_dictionary is True


async def test_without_the_roles_dictionary_everything_is_left_to_the_classifier(
    hh_server, make_client, tmp_path
):
    hh_server.script("/professional_roles", Reply(404, error_body("not_found")))
    out = tmp_path / "o.jsonl"
    summary = await run(make_client(hh_server), out, query=ALL, per_page=20)
    assert summary.roles_dictionary is False
    assert summary.written == 12
    assert {v["vacrec"]["industry_source"] for v in lines_of(out)} == {SOURCE_UNMAPPED}


@pytest.mark.parametrize(
    ("field", "value"),
    [("query", " "), ("per_page", 101), ("per_page", 0), ("max_pages", 0), ("concurrency", 0)],
)
def test_params_are_validated(field, value):
    params = {"query": "художник", field: value}
    with pytest.raises(ValueError, match=field):
        CollectParams(**params)
