"""The hh.ru search options ``vacrec collect`` and ``vacrec refresh`` share: one region and
one page budget mean the same to both, so they are declared once."""

from __future__ import annotations

from typing import Annotated

import typer

Area = Annotated[
    str | None, typer.Option("--area", help="hh.ru region id of the search (1 Москва, 113 Россия).")
]
MaxPages = Annotated[
    int | None, typer.Option("--max-pages", min=1, help="Most search pages per query.")
]
