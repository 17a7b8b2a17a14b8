"""Training and evaluation of the classifier on labelled messages (shared by the CLI and the benchmark)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp.catalogue import Catalogue
from nlp.classifier import Classifier
from nlp.data import TEXT_MODES, DataError, Labelled, message_text
from nlp.features import features
from nlp.learned import LinearModel, json_array, train_linear
from nlp.segment import normalise
from nlp.taxonomy import TAXONOMY


def category_labels(catalogue: Catalogue, labels: Iterable[str]) -> list[str]:
    """First-level category of each label, which is a category name or a matter code; DataError otherwise."""
    result, unknown = [], set()
    for label in labels:
        if label in TAXONOMY:
            result.append(label)
        elif label in catalogue.matters:
            result.append(catalogue.matter(label).category1)
        else:
            unknown.add(label)
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        raise DataError(f"unknown label(s) {shown}: a label must be a first-level category or a matter code")
    return result


def train_model(
    catalogue: Catalogue,
    rows: Sequence[Labelled],
    history: Iterable[tuple[str, str]] = (),
    text_mode: str = "title+detail",
) -> tuple[LinearModel, list[tuple[str, str]]]:
    """Train the category model on labelled rows plus dispatcher history; return it and the matter examples.

    Rows labelled with a matter code and all history items also become examples of the dispatcher memory, so
    the matter-level knowledge they carry survives (the linear model itself only knows categories).
    """
    history = [(text, code) for text, code in history]
    texts = [message_text(r.title, r.detail, text_mode) for r in rows] + [text for text, _ in history]
    labels = category_labels(catalogue, [r.label for r in rows] + [code for _, code in history])
    examples = [(message_text(r.title, r.detail, "title"), r.label) for r in rows if r.label in catalogue.matters]
    examples += history
    docs = [features(normalise(text)) for text in texts]
    try:
        model = train_linear(docs, labels, meta={"text_mode": text_mode, "trained_on": len(docs)})
    except ValueError as exc:
        raise DataError(str(exc)) from None
    return model, examples


def save_model(model: LinearModel, examples: Sequence[tuple[str, str]], path: Path) -> None:
    """Write the model with its matter examples (replayed into the example memory at load)."""
    model.save(path, extra={"history": json_array([list(e) for e in examples])})


@dataclass(frozen=True)
class Evaluation:
    macro_f1: float
    accuracy: float
    per_class_f1: dict[str, float]
    messages_per_second: float
    n: int

    def as_dict(self) -> dict[str, object]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "per_class_f1": {k: round(v, 4) for k, v in self.per_class_f1.items()},
            "messages_per_second": round(self.messages_per_second, 1),
            "n": self.n,
        }


def scores(gold: Sequence[str], predicted: Sequence[str | None]) -> tuple[float, float, dict[str, float]]:
    """(macro-F1, accuracy, per-class F1) over the gold label set; None predictions count as wrong.

    Macro-F1 averages over the labels present in ``gold`` only: the catalogue has 15 categories, and a
    category absent from the data has no F1 to speak of (its false positives still lower others' recall).
    """
    per_class: dict[str, float] = {}
    for label in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        per_class[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    accuracy = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)
    return float(np.mean(list(per_class.values()))), accuracy, per_class


def evaluate(classifier: Classifier, catalogue: Catalogue, rows: Sequence[Labelled], text_mode: str) -> Evaluation:
    """Category-level scores of the classifier on labelled rows (matter labels are mapped to categories)."""
    gold = category_labels(catalogue, [r.label for r in rows])
    if text_mode not in TEXT_MODES:
        raise ValueError(f"unknown text mode {text_mode!r}; use one of {', '.join(TEXT_MODES)}")
    details = [r.detail if text_mode == "title+detail" else "" for r in rows]
    start = time.perf_counter()
    predicted = [classifier.category_of(r.title, detail) for r, detail in zip(rows, details, strict=True)]
    elapsed = time.perf_counter() - start
    macro, accuracy, per_class = scores(gold, predicted)
    return Evaluation(macro, accuracy, per_class, len(rows) / elapsed if elapsed > 0 else 0.0, len(rows))
