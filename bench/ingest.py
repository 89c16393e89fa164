"""Prints the ingest benchmark as JSON: `python bench/ingest.py [CATALOG]`."""

import json
import sys
from pathlib import Path

from vacrec.benchmarks.ingest import run

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/data/hh_artist_vacancies_2023.xlsx"

if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)))
