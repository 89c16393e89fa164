"""Each reader, bad rows with their numbers, and files that are not catalogs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.catalog.factories import (
    XLSX_HEADER,
    normalised,
    original_row,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from vacrec.catalog.readers import CatalogFileError, open_catalog, read_catalog
from vacrec.catalog.schema import Vacancy

ART = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"


def test_jsonl_of_the_normalised_schema(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [normalised(1), normalised(2, [IT, ART])])
    result = read_catalog(path)
    assert [v.id for v in result.vacancies] == ["t-1", "t-2"]
    assert result.vacancies[1].industries == (IT, ART)
    assert result.vacancies[0].salary == 90001
    assert result.rejections == []


def test_jsonl_lines_split_at_newlines_only_not_at_unicode_line_separators(
    tmp_path: Path,
) -> None:
    """hh.ru descriptions contain U+2028; written raw into JSON they must not cut the line."""
    rows = [normalised(1), normalised(2), normalised(3)]
    rows[1]["description"] = "Первый абзац.\u2028Второй абзац.\u2029Третий."
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n", encoding="utf-8"
    )
    assert "\u2028" in path.read_text(encoding="utf-8")  # raw, as the collector writes it

    result = read_catalog(path)

    assert [v.id for v in result.vacancies] == ["t-1", "t-2", "t-3"]
    description = result.vacancies[1].description
    assert "Первый" in description and "Второй" in description and "Третий" in description
    assert result.rejections == []


def test_json_array_and_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([normalised(1, id=123456)], ensure_ascii=False), encoding="utf-8")
    (vacancy,) = read_catalog(path).vacancies
    assert vacancy.id == "123456"


def test_csv_keeps_group_names_with_commas_whole(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [normalised(1, [IT, ART]), normalised(2)])
    result = read_catalog(path)
    assert result.vacancies[0].industries == (IT, ART)
    assert len(result.vacancies) == 2


def test_bad_rows_are_rejected_with_line_numbers_and_good_rows_kept(tmp_path: Path) -> None:
    rows = [
        normalised(1),
        "{not json",
        normalised(3, name=""),
        normalised(4, salary=-5),
        normalised(5, industries="Продажи"),
        normalised(6),
    ]
    result = read_catalog(write_jsonl(tmp_path / "c.jsonl", rows))
    assert [v.id for v in result.vacancies] == ["t-1", "t-6"]
    assert [r.row for r in result.rejections] == [2, 3, 4, 5]
    reasons = {r.row: r.reason for r in result.rejections}
    assert "JSON" in reasons[2]
    assert reasons[3].startswith("name")
    assert reasons[4].startswith("salary")
    assert reasons[5].startswith("industries")


def test_original_spreadsheet_layout(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [original_row(1, [IT, ART]), original_row(2, None)])
    result = read_catalog(path)
    first, second = result.vacancies
    assert first.id == "70000001"
    assert first.industries == (IT, ART)
    assert first.company == "Театр Тест"
    assert first.area == "Москва"
    assert first.url == "https://hh.ru/vacancy/70000001"
    assert first.salary == 55001
    assert first.published_at is not None and first.published_at.year == 2023
    assert second.industries == ()


def test_spreadsheet_row_with_a_broken_literal_is_rejected_by_row(tmp_path: Path) -> None:
    broken = original_row(2, [ART])
    broken[3] = "{'name': 'unterminated"
    result = read_catalog(write_xlsx(tmp_path / "c.xlsx", [original_row(1, [ART]), broken]))
    assert len(result.vacancies) == 1
    assert [r.row for r in result.rejections] == [3]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"", "empty"),
        ("junk.jsonl", bytes(range(256)) * 4, "binary"),
        ("junk.xlsx", b"this is not a workbook", "xlsx"),
        ("wrong.csv", b"a,b\n1,2\n", "missing columns"),
        ("other.json", json.dumps([{"x": 1}, {"y": 2}]).encode(), "fields of a vacancy"),
        ("other.jsonl", b'{"x": 1}\n{"y": 2}\n', "fields of a vacancy"),
        ("lines.jsonl", b"not json\nnor this\n", "no line is a JSON vacancy object"),
        ("note.txt", b"hello", "unsupported extension"),
    ],
)
def test_a_file_that_is_not_a_catalog_is_refused_whole(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CatalogFileError, match=message):
        read_catalog(path)


def test_spreadsheet_with_other_columns_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "other.xlsx", [[1, 2]], header=["foo", "bar"])
    with pytest.raises(CatalogFileError, match="original service's layout"):
        read_catalog(path)


def test_shared_spreadsheet_reads_every_row_and_keeps_groups_whole(shared_xlsx: Path) -> None:
    result = read_catalog(shared_xlsx)
    assert result.read == 1387
    assert result.rejections == []
    groups = {g for v in result.vacancies for g in v.industries}
    assert len(groups) == 23
    assert IT in groups  # a group name with commas, never split
    assert not any(g.strip() == "интернет" for g in groups)


def test_jsonl_is_read_lazily_as_the_file_grows(tmp_path: Path) -> None:
    """Lines appended after reading began are still read: nothing was read ahead into a list."""
    path = write_jsonl(tmp_path / "c.jsonl", [normalised(1), normalised(2)])
    stream = open_catalog(path)
    rows = iter(stream)
    first = next(rows)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(normalised(i), ensure_ascii=False) for i in (3, 4)))
        handle.write("\n")

    rest = list(rows)

    assert isinstance(first, Vacancy) and first.id == "t-1"
    assert [v.id for v in rest if isinstance(v, Vacancy)] == ["t-2", "t-3", "t-4"]
    assert stream.done_bytes == stream.size  # read to the end


def test_bad_utf8_late_in_a_jsonl_refuses_the_file_when_reached(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [normalised(i) for i in range(1, 4)])
    with path.open("ab") as handle:
        handle.write(b'{"id": "x", "name": "\xff"}\n')
    rows = iter(open_catalog(path))
    assert [v.id for v in (next(rows), next(rows), next(rows))] == ["t-1", "t-2", "t-3"]
    with pytest.raises(CatalogFileError, match=r"not UTF-8 text .* line 4"):
        next(rows)


def test_a_json_file_of_json_lines_is_read_line_by_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.json", [normalised(1), "{broken", normalised(3)])
    result = read_catalog(path)
    assert [v.id for v in result.vacancies] == ["t-1", "t-3"]
    assert [r.row for r in result.rejections] == [2]


def test_csv_and_spreadsheet_rows_are_yielded_one_at_a_time(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "c.csv", [normalised(1), normalised(2)])
    xlsx_path = write_xlsx(tmp_path / "c.xlsx", [original_row(1, [ART]), original_row(2, [IT])])
    for path in (csv_path, xlsx_path):
        stream = open_catalog(path)
        rows = iter(stream)
        assert isinstance(rows, Iterator) and not isinstance(rows, list)
        assert isinstance(next(rows), Vacancy)
        assert len(list(rows)) == 1


def test_spreadsheet_schedule_and_experience_cells_are_hh_ids(tmp_path: Path) -> None:
    """The 2023 file's ``@workSchedule`` and ``workExperience`` cells are bare ids."""
    header = [*XLSX_HEADER, "@workSchedule", "workExperience"]
    rows = [
        [*original_row(1, [ART]), "remote", "noExperience"],
        [*original_row(2, [ART]), "fullDay", "between3And6"],
        [*original_row(3, [ART]), None, "somethingNew"],  # unknown ids are unknown, not errors
    ]
    result = read_catalog(write_xlsx(tmp_path / "c.xlsx", rows, header=header))
    assert result.rejections == []
    assert [(v.schedule, v.experience) for v in result.vacancies] == [
        ("remote", "noExperience"),
        ("fullDay", "between3And6"),
        (None, None),
    ]


def test_jsonl_and_csv_carry_schedule_and_experience(tmp_path: Path) -> None:
    rows = [
        normalised(1, schedule="remote", experience="moreThan6"),
        normalised(2, schedule={"id": "shift", "name": "Сменный график"}),
    ]
    jsonl = read_catalog(write_jsonl(tmp_path / "c.jsonl", rows)).vacancies
    assert [(v.schedule, v.experience) for v in jsonl] == [("remote", "moreThan6"), ("shift", None)]
    csv_rows = [normalised(1, schedule="flexible", experience="between1And3")]
    (vacancy,) = read_catalog(write_csv(tmp_path / "c.csv", csv_rows)).vacancies
    assert (vacancy.schedule, vacancy.experience) == ("flexible", "between1And3")


def test_entities_and_tags_are_decoded_at_ingest(tmp_path: Path) -> None:
    row = normalised(
        1,
        name="We&#39;re hiring &amp;quot;artists&amp;quot;",
        description="Студия &quot;Бобоша&quot;<br>ищет <b>художника</b>; опыт <3 лет, R&D.",
        company="A &amp; B",
    )
    (vacancy,) = read_catalog(write_jsonl(tmp_path / "c.jsonl", [row])).vacancies
    assert vacancy.name == 'We\'re hiring "artists"'
    assert vacancy.description == 'Студия "Бобоша"\nищет  художника ; опыт <3 лет, R&D.'
    assert vacancy.company == "A & B"


def test_shared_spreadsheet_has_schedules_and_no_raw_entities(shared_xlsx: Path) -> None:
    from vacrec.catalog.text import has_markup

    vacancies = read_catalog(shared_xlsx).vacancies
    assert {v.schedule for v in vacancies} == {"fullDay", "remote", "shift", "flexible"}
    assert {v.experience for v in vacancies} == {
        "noExperience", "between1And3", "between3And6", "moreThan6"
    }  # fmt: skip
    assert not [v.id for v in vacancies if has_markup(f"{v.name} {v.description} {v.company}")]
