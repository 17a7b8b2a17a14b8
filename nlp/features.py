"""Features of a message for the learned model: character 1-3-grams, as strings and as integer keys.

Character n-grams carry the signal for short Chinese messages: robust to segmentation errors, typos and new
words, and they need no segmenter. Adding jieba word 1-2-grams was measured (benchmarks/README.md): +0.002
macro-F1 on govmsg titles at 2-3x the classification time, which would break the speed budget (classify at
≥ 0.9x the rate of bare ``jieba.lcut``). So the classification path does not segment at all.

Two forms of the same features:

* :func:`features` gives the n-gram strings; training and the model's vocabulary use them.
* :func:`feature_keys` gives every 1-3-gram of a text as an integer key, with two numpy calls instead of
  building ~50 strings and hashing each one for a dict lookup (most of the former cost of classification).
  A key is the n-gram's UTF-16 code units, little-endian: ``c1 | c2 << 16 | c3 << 32``; :func:`gram_keys`
  converts strings the same way, so looking a text's keys up among the vocabulary's keys finds exactly the
  vocabulary n-grams of the text. The keys also include n-grams that span separators, which :func:`features`
  never produces; none of them is in the vocabulary (every entry came out of :func:`features`), so the lookup
  drops them: the vocabulary n-grams found, repeats included, are exactly those of ``features(text)``.

A key is exact only for characters of the Basic Multilingual Plane other than NUL (a 2-gram ending in NUL
would have its first character's key) and U+FFFF (the padding after the text). :func:`feature_keys` returns
None for a text with any other character (emoji, rare CJK extension characters): callers then use the string
path, which is exact for every text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

CHAR_NGRAMS = (1, 2, 3)
# Runs of characters that carry no meaning for routing: punctuation, symbols, whitespace. N-grams never span
# them, which keeps "小区。物业" from producing a spurious "区。物".
_SEPARATORS = re.compile(r"[\W_]+")
# U+FFFF is a noncharacter: never a word character (so in no vocabulary n-gram), and texts containing it take
# the string path, so n-grams running into the padding match nothing.
_PAD = "\uffff"
# Row r of feature_keys keeps the low r + 1 code units of each 4-unit window.
_MASKS = np.array([[0xFFFF], [0xFFFF_FFFF], [0xFFFF_FFFF_FFFF]], dtype=np.uint64)
_WINDOW = np.dtype("<u8")  # a dtype object: parsing "<u8" on every call costs as much as the view itself


def features(text: str) -> list[str]:
    """Character 1-3-grams (with repeats: the model counts term frequency) of each run of word characters."""
    grams: list[str] = []
    for run in _SEPARATORS.split(text):
        n = len(run)
        for size in CHAR_NGRAMS:
            grams.extend(run[i : i + size] for i in range(n - size + 1))
    return grams


def feature_keys(text: str) -> np.ndarray | None:
    """Keys (uint64, shape (3, n)) of the 1-, 2- and 3-grams starting at each of the n positions of ``text``.

    Row 0 holds the 1-grams, row 1 the 2-grams, row 2 the 3-grams; those running past the end of the text
    include padding and match nothing. None if the text has a character outside the fast path (module doc).
    """
    n = len(text)
    if "\0" in text or _PAD in text:
        return None
    data = (text + _PAD * 3).encode("utf-16-le", "surrogatepass")
    if len(data) != 2 * (n + 3):  # a surrogate pair: a character outside the BMP
        return None
    # Each position's next four code units as one little-endian 64-bit word (an overlapping, unaligned view).
    windows = np.ndarray((n,), dtype=_WINDOW, buffer=data, strides=(2,))
    return windows & _MASKS


def gram_keys(grams: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Keys (uint64) of n-gram strings of 1-3 characters as :func:`feature_keys` computes them, vectorised; and
    whether each gram is keyable (False for a gram with a character outside the fast path: it can only occur
    in texts that take the string path).

    ``ValueError`` for an empty string or one longer than 3 characters: it has no key.
    """
    if not grams:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool)
    lengths = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
    if lengths.min() < 1 or lengths.max() > max(CHAR_NGRAMS):
        raise ValueError(f"n-grams must have 1 to {max(CHAR_NGRAMS)} characters")
    codes = np.frombuffer("".join(grams).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    excluded = (codes == 0) | (codes >= 0xFFFF)
    starts = np.cumsum(lengths) - lengths
    keys = codes[starts]
    bad = excluded[starts]
    for offset in range(1, max(CHAR_NGRAMS)):
        longer = lengths > offset
        keys[longer] |= codes[starts[longer] + offset] << np.uint64(16 * offset)
        bad[longer] |= excluded[starts[longer] + offset]
    return keys, ~bad


class KeyTable:
    """Distinct n-gram keys, each with an integer value, looked up many keys per numpy call.

    A bucketed hash table: a key lives in row ``key % buckets`` (a prime) of a (buckets, width) array, the width
    being the fullest bucket's size, so a lookup gathers each query's row and compares it whole: five numpy
    calls for all of a message's keys, with no probing loop. At a few dozen keys, the number of numpy calls is
    what costs (each a few µs amid other work); a sorted array with ``searchsorted`` measured no faster.
    """

    #: keys per bucket on average; the fullest bucket sets the width (16 for 193k keys)
    _LOAD = 4
    #: fills empty slots; never a query key (those of texts on the fast path have no NUL, so are never 0)
    _EMPTY = 0

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        """``keys`` (uint64, distinct, non-zero) and ``values`` (int32-ranged, same length)."""
        if len(np.unique(keys)) != len(keys) or np.any(keys == self._EMPTY):
            raise ValueError("keys must be distinct and non-zero")
        buckets = _prime_at_least(max(1, len(keys) // self._LOAD))
        self._buckets = np.array(buckets, dtype=np.uint64)  # a 0-d array: faster than a numpy scalar here
        bucket = (keys % self._buckets).astype(np.intp)
        order = np.argsort(bucket, kind="stable")
        bucket = bucket[order]
        counts = np.bincount(bucket, minlength=buckets)
        slot = np.arange(len(keys)) - (np.cumsum(counts) - counts)[bucket]
        width = max(1, int(counts.max(initial=0)))
        self._keys = np.full((buckets, width), self._EMPTY, dtype=np.uint64)
        self._values = np.zeros((buckets, width), dtype=np.int32)
        self._keys[bucket, slot] = keys[order]
        self._values[bucket, slot] = values[order]

    def values(self, queries: np.ndarray) -> np.ndarray:
        """Values of the queries (1-D uint64) that are in the table, in query order, repeats included."""
        bucket = queries % self._buckets
        # take(axis=0): a fraction of the cost of fancy indexing for a few dozen rows
        hit = self._keys.take(bucket, axis=0) == queries[:, None]
        return self._values.take(bucket, axis=0)[hit]


def _prime_at_least(n: int) -> int:
    """The smallest prime ≥ n (trial division: n is at most about a vocabulary's size)."""
    candidate = max(n, 2)
    while any(candidate % d == 0 for d in range(2, math.isqrt(candidate) + 1)):
        candidate += 1
    return candidate
