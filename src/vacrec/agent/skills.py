"""The words each skill stands for, as the context encoder matches them.

A skill enters the agent's context twice: as an identity (an embedding the
model learns from feedback; a model records the skills it knows, and a skill it
has not seen gets the "unknown" embedding) and through its words, matched
against each industry's postings like the seeker's own text. A configured
extra skill (``VACREC_EXTRA_SKILLS``) has no keywords: its own name is its words.
The packaged skills and their keywords are one table in :mod:`vacrec.domain`.
"""

from __future__ import annotations

from collections.abc import Sequence

from vacrec.domain import SKILL_KEYWORDS

__all__ = ["SKILL_KEYWORDS", "skill_text", "skill_texts"]


def skill_text(skill: str) -> str:
    """The words a skill stands for: its name and its keywords (for an extra skill, the name)."""
    return " ".join((skill, *SKILL_KEYWORDS.get(skill, ())))


def skill_texts(skills: Sequence[str]) -> dict[str, str]:
    """Each skill's words (:func:`skill_text`), as the context encoder takes them."""
    return {skill: skill_text(skill) for skill in skills}
