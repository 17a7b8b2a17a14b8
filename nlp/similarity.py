"""Text similarity for duplicate detection and the dispatcher-example memory: cosine over character bigrams.

Character bigrams need no segmentation (fast, and stable across jieba dictionary changes) and are robust to
the small rewordings residents make when reporting the same thing twice ("小区门口路灯坏了" /
"小区门口的路灯又坏了").
"""

from __future__ import annotations

import math
import re
from collections import Counter

from nlp.segment import normalise

_SEPARATORS = re.compile(r"[\W_]+")


def shingles(text: str) -> frozenset[str]:
    """Character bigrams of each run of word characters (single characters for one-character runs)."""
    grams: set[str] = set()
    for run in _SEPARATORS.split(normalise(text)):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(grams)


def cosine(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine similarity of two shingle sets (0 if either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two messages; 1 for the same text up to punctuation, case and width."""
    return cosine(shingles(a), shingles(b))


class ExampleMemory:
    """Messages whose matter a dispatcher confirmed or corrected, searchable by similarity.

    An inverted index from bigram to examples keeps a lookup proportional to the examples sharing a bigram
    with the message, not to the whole history.
    """

    def __init__(self) -> None:
        self._examples: list[tuple[frozenset[str], str]] = []
        self._postings: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._examples)

    def add(self, text: str, label: str) -> None:
        """Remember that ``text`` belongs to ``label`` (a matter code)."""
        grams = shingles(text)
        if not grams:
            return
        example_id = len(self._examples)
        self._examples.append((grams, label))
        for gram in grams:
            self._postings.setdefault(gram, []).append(example_id)

    def best(self, text: str, min_similarity: float) -> dict[str, float]:
        """Highest similarity per label among examples at least ``min_similarity`` similar to ``text``."""
        if not self._examples:  # skip the shingling: the common case before any dispatcher decision
            return {}
        grams = shingles(text)
        if not grams:
            return {}
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        result: dict[str, float] = {}
        for example_id, overlap in shared.items():
            example, label = self._examples[example_id]
            score = overlap / math.sqrt(len(grams) * len(example))
            if score >= min_similarity and score > result.get(label, 0.0):
                result[label] = score
        return result
