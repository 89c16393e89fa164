"""Training benchmark: `python bench/train.py [--seeds 0 1 2]`; the last stdout line is JSON.

A thin wrapper over :func:`vacrec.benchmarks.train.run` (same as `vacrec bench train --json`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vacrec.benchmarks.train import run

DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DEFAULT_CATALOG = DEFAULT_CATALOG / "hh_artist_vacancies_2023.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG.resolve())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    figures = run(
        args.catalog,
        seeds=args.seeds,
        progress=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
