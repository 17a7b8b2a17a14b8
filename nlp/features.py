"""Feature strings of a message for the learned model: character 1-3-grams.

Character n-grams carry the signal for short Chinese messages: robust to segmentation errors, typos and new
words, and they need no segmenter. Adding jieba word 1-2-grams was measured (benchmarks/README.md): +0.002
macro-F1 on govmsg titles at 2-3x the classification time, which would break the speed budget (classify at
≥ 0.9x the rate of bare ``jieba.lcut``). So the classification path does not segment at all.
"""

from __future__ import annotations

import re

CHAR_NGRAMS = (1, 2, 3)
# Runs of characters that carry no meaning for routing: punctuation, symbols, whitespace. N-grams never span
# them, which keeps "小区。物业" from producing a spurious "区。物".
_SEPARATORS = re.compile(r"[\W_]+")


def features(text: str) -> list[str]:
    """Character 1-3-grams (with repeats: the model counts term frequency) of each run of word characters."""
    grams: list[str] = []
    for run in _SEPARATORS.split(text):
        n = len(run)
        for size in CHAR_NGRAMS:
            grams.extend(run[i : i + size] for i in range(n - size + 1))
    return grams
