"""The README's shell examples are safe to paste: every `vacrec` line is one valid command.

A README once printed three commands on one line joined by pipes; pasted, it ran
as a pipeline, rolled back the live model and still exited 0. Each example is
parsed here by the real command-line definition (options and arguments checked,
nothing run), and no line may pipe one command into another.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from vacrec.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def _shell_lines() -> list[str]:
    lines = []
    for block in SHELL_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            command = shlex.split(line, comments=True)
            if command:
                lines.append(line)
    return lines


def _parse(args: list[str]) -> None:
    """Parse ``args`` down the command tree without invoking anything (raises UsageError)."""
    command = typer.main.get_command(app)
    ctx = command.make_context("vacrec", list(args), resilient_parsing=False)
    while isinstance(command, TyperGroup):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name!r}"
        command = sub
        ctx = sub.make_context(name or "", rest, parent=ctx)


def test_the_readme_has_examples() -> None:
    lines = _shell_lines()
    assert sum(shlex.split(line, comments=True)[0] == "vacrec" for line in lines) >= 8


@pytest.mark.parametrize("line", _shell_lines())
def test_each_example_line_is_one_valid_command(line: str) -> None:
    words = shlex.split(line, comments=True)
    assert not {"|", "||", "&&", ";"} & set(words), f"more than one command on a line: {line}"
    assert "|" not in line.split("#", 1)[0], f"a pipe in: {line}"
    if words[0] == "vacrec":
        _parse(words[1:])
    else:
        assert words[0] in {"make", "."}, f"unexpected command: {line}"


def test_a_wrong_option_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such option"):
        _parse(["train", "--no-such-option"])
    with pytest.raises(Exception, match="Missing"):
        _parse(["model", "promote"])  # VERSION missing
    with pytest.raises(Exception, match="No such command"):
        _parse(["modle", "list"])
