"""How a write reaches its transaction: the store's write functions take :class:`Writes`.

A write is a function of a connection that runs inside a transaction someone else opens and
commits. Given an engine, each write gets a transaction of its own (:class:`EachAlone`); the
server passes its group commit (``app/group_commit.py``) instead, which lets concurrent
requests' writes share one transaction. Either way a write's result comes back only once
its transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")


class Writes(Protocol):
    """Runs a write in a transaction and returns its result once that committed.

    A write may run more than once (a shared transaction rolled back, then the write alone):
    it does SQL on the connection it is given and nothing else."""

    def run(self, write: Callable[[Connection], T], /) -> T: ...


@dataclass(frozen=True)
class EachAlone:
    """One transaction per write: for commands, tests and in-process use."""

    engine: Engine

    def run(self, write: Callable[[Connection], T], /) -> T:
        with self.engine.begin() as conn:
            return write(conn)


def writes_of(target: Engine | Writes) -> Writes:
    """``target`` as :class:`Writes` (an engine writes each in its own transaction)."""
    return EachAlone(target) if isinstance(target, Engine) else target
