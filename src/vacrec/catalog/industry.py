"""Industry inference for vacancies that came without an industry group.

A TF-IDF + logistic-regression classifier (trained by SGD: a tenth of the
time of lbfgs on the shared catalog, with equal held-out accuracy) trained on the labelled vacancies
of the same catalog. A vacancy with several groups contributes one training
example per group; a prediction counts as correct on held-out data when it
is any of the vacancy's true groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

from vacrec.catalog.text import normalise_to_text

HELD_OUT_SHARE = 0.2
MIN_LABELLED = 10
SEED = 0


@dataclass(frozen=True)
class Inference:
    """The inferred group of one vacancy and the classifier's probability for it."""

    industry: str
    confidence: float


class IndustryClassifier:
    """``fit`` on labelled texts, ``predict`` a single group with its confidence."""

    def __init__(self, *, alpha: float = 1e-5, seed: int = SEED) -> None:
        self.alpha = alpha
        self.seed = seed

    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]]) -> IndustryClassifier:
        """Learn from ``texts`` whose groups are ``labels`` (one or more per text)."""
        return self._fit_normalised([normalise_to_text(t) for t in texts], labels)

    def _fit_normalised(
        self, normalised: Sequence[str], labels: Sequence[Sequence[str]]
    ) -> IndustryClassifier:
        docs, targets = _expand(normalised, labels)
        if len(set(targets)) < 2:
            raise ValueError("industry inference needs at least two labelled groups")
        self.vectorizer_ = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True)
        features = self.vectorizer_.fit_transform(docs)
        self.model_ = SGDClassifier(loss="log_loss", alpha=self.alpha, random_state=self.seed)
        self.model_.fit(features, targets)
        return self

    def predict(self, texts: Sequence[str]) -> list[Inference]:
        """The most probable group of each text."""
        features = self.vectorizer_.transform([normalise_to_text(t) for t in texts])
        probabilities = self.model_.predict_proba(features)
        best = probabilities.argmax(axis=1)
        classes = self.model_.classes_
        return [
            Inference(str(classes[i]), float(probabilities[row, i])) for row, i in enumerate(best)
        ]


def held_out_accuracy(
    texts: Sequence[str], labels: Sequence[Sequence[str]], *, seed: int = SEED
) -> float | None:
    """Share of held-out vacancies whose predicted group is one of their true groups."""
    return _held_out_accuracy([normalise_to_text(t) for t in texts], labels, seed)


def fit_with_accuracy(
    texts: Sequence[str], labels: Sequence[Sequence[str]], *, seed: int = SEED
) -> tuple[IndustryClassifier, float | None]:
    """A classifier fitted on all of ``texts`` and its :func:`held_out_accuracy`.

    Each text is normalised once for both (normalising dominates on large catalogs).
    """
    normalised = [normalise_to_text(t) for t in texts]
    accuracy = _held_out_accuracy(normalised, labels, seed)
    return IndustryClassifier(seed=seed)._fit_normalised(normalised, labels), accuracy


def _held_out_accuracy(
    normalised: Sequence[str], labels: Sequence[Sequence[str]], seed: int
) -> float | None:
    if len(normalised) < MIN_LABELLED:
        return None
    indices = np.arange(len(normalised))
    train_idx, test_idx = train_test_split(indices, test_size=HELD_OUT_SHARE, random_state=seed)
    classifier = IndustryClassifier(seed=seed)._fit_normalised(
        [normalised[i] for i in train_idx], [labels[i] for i in train_idx]
    )
    features = classifier.vectorizer_.transform([normalised[i] for i in test_idx])
    predicted = classifier.model_.classes_[classifier.model_.predict_proba(features).argmax(axis=1)]
    hits = sum(str(p) in labels[i] for p, i in zip(predicted, test_idx, strict=True))
    return hits / len(test_idx)


def _expand(texts: Sequence[str], labels: Sequence[Sequence[str]]) -> tuple[list[str], list[str]]:
    docs: list[str] = []
    targets: list[str] = []
    for text, groups in zip(texts, labels, strict=True):
        for group in groups:
            docs.append(text)
            targets.append(group)
    return docs, targets
