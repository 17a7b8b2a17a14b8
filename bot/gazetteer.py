"""The gazetteer's names: how a place name is written (:func:`check_name`), compared (:func:`normalise`) and found
in a message (:class:`Gazetteer`). The grid map (bot/countymap.py) builds one from its grids' places. No Telegram.

**Finding names** (:meth:`Gazetteer.find`): the names found in a message as substrings, like the keyword model's
scan (a two-character prefix index: one dictionary look-up per character), overlapping matches resolved longest
first ("金地家园小区门口" finds 金地家园, not a shorter 金地 inside it). The issue's other idea, the gazetteer as a
jieba user dictionary, was measured on a county-sized gazetteer (1,000 grids, 20,000 names, 50-character
messages): a jieba Tokenizer over a dictionary of the gazetteer alone takes 140–250 µs a message against 12–21 µs
for the scan, and 7 MB against 6 MB, plus 15 MB for importing jieba, which the bot otherwise never does; jieba's
main dictionary would add 62 MB more to a bot kept under 150 MB. Both find the same names in these messages, but
jieba's best path can cut a name in two when its neighbours form a likelier word, and it splits at characters
outside its word pattern. So the scan: faster, smaller, no jieba in the bot (benchmarks/bench_countymap.py).

**Determinism.** A name's grids are kept in the order given (the map gives them sorted by code) and its spelling
is the first grid's; matches are chosen by (length, position); nothing iterates a set or a dict of strings to
decide (str hashes differ per process).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: a place name's length in characters
PLACE_MIN, PLACE_MAX = 2, 40


def normalise(text: str) -> str:
    """How names and messages are compared: NFKC (full-width letters and digits), case-folded, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def check_name(name: str) -> str | None:
    """What is wrong with a place name, in words for the county file's author; None when nothing is."""
    key = normalise(name)
    if not key:
        return "empty name"
    if len(key) < PLACE_MIN:
        return "one character would match in too many messages"
    if len(key) > PLACE_MAX:
        return f"longer than {PLACE_MAX} characters"
    return None


class Gazetteer:
    """Place names → grid codes, found in a text by a two-character prefix index (see the module doc)."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        """From (grid code, name) pairs of names that pass :func:`check_name`, each once in its grid; a name's
        grids in the order given, its spelling the first one's."""
        self._grids: dict[str, list[str]] = {}
        self._spelling: dict[str, str] = {}
        for code, name in names:
            key = normalise(name)
            self._grids.setdefault(key, []).append(code)
            self._spelling.setdefault(key, name.strip())
        lengths: dict[str, set[int]] = {}
        for key in self._grids:
            lengths.setdefault(key[:2], set()).add(len(key))
        self._lengths = {prefix: tuple(sorted(sizes, reverse=True)) for prefix, sizes in lengths.items()}

    def find(self, text: str) -> list[tuple[str, list[str]]]:
        """The names in ``text`` with their grids, longest first, then in the order they appear."""
        text = normalise(text)
        spans = []
        for start in range(len(text) - 1):
            for size in self._lengths.get(text[start : start + 2], ()):
                if text[start : start + size] in self._grids:
                    spans.append((start, size))
                    break  # the longest at this start; shorter ones would lie inside it
        spans.sort(key=lambda span: (-span[1], span[0]))
        covered = bytearray(len(text))
        found: dict[str, None] = {}
        for start, size in spans:
            if not any(covered[start : start + size]):
                covered[start : start + size] = b"\x01" * size
                found.setdefault(text[start : start + size])
        return [(self._spelling[key], list(self._grids[key])) for key in found]
