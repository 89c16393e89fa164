"""`vacrec bench relevance --json` reports the labelled requests beside the title figures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.catalog.factories import normalised, write_jsonl
from vacrec.cli import app

ARTS = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"
TITLES = [
    ("Художник-иллюстратор детских книг", ARTS),
    ("Скульптор по гипсу", ARTS),
    ("Мастер перманентного макияжа", ARTS),
    ("Преподаватель рисования для детей", ARTS),
    ("Продавец-кассир (пр. Художников, 15)", IT),
    ("UI/UX дизайнер", IT),
    ("3D Artist", IT),
    ("Senior 2D Artist", IT),
]


def test_relevance_json_has_the_labelled_figures(tmp_path: Path) -> None:
    rows = [
        normalised(i, industries=[group], name=f"{title} {i}", description=f"{title}. Работа {i}.")
        for i, (title, group) in enumerate(TITLES * 3)
    ]
    catalog = write_jsonl(tmp_path / "tiny.jsonl", rows)
    result = CliRunner().invoke(
        app,
        ["bench", "relevance", "--catalog", str(catalog), "--seekers", "10", "--no-trained",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures["policies"]) == {"content_prior", "search"}
    labelled = figures["labelled"]
    assert labelled["requests"] >= 60
    for name in ("content_prior", "search"):
        for split in ("tune", "test"):
            half = labelled[name][split]
            assert {"precision_at_5", "any_good", "ndcg_at_5", "ru", "en"} <= set(half)
            assert 0.0 <= half["precision_at_5"] <= 1.0
        worst = labelled[name]["worst_test"]
        assert worst and all(len(w["served"]) <= 5 for w in worst)
    # the tiny catalog holds an illustrator: the book request finds it
    assert labelled["content_prior"]["tune"]["any_good"] > 0
