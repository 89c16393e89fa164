"""Serving benchmark: `python bench/serve.py [--catalog PATH]`; the last stdout line is JSON.

A thin wrapper over :func:`vacrec.benchmarks.serve.run` (same as `vacrec bench serve --json`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vacrec.benchmarks.serve import HTTP_REQUESTS, SCALES, run

DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DEFAULT_CATALOG = DEFAULT_CATALOG / "hh_artist_vacancies_2023.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG.resolve())
    parser.add_argument("--no-http", action="store_true", help="skip the server measurements")
    parser.add_argument("--requests", type=int, default=HTTP_REQUESTS)
    parser.add_argument("--scales", type=int, nargs="+", default=list(SCALES))
    args = parser.parse_args()
    figures = run(
        args.catalog,
        http=not args.no_http,
        scales=args.scales,
        http_requests=args.requests,
        progress=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
