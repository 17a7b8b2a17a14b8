"""The keyword model: evidence per matter from the catalogue's weighted keywords. Works with no history at all.

Keywords are matched as substrings of the normalised text, not as jieba tokens: residents' phrasing rarely
aligns with the segmenter ("暖气不热了" must hit "暖气不热" and "暖气"). A two-character prefix set makes the
scan cost about one lookup per character, so it adds little to segmentation.
"""

from __future__ import annotations

from nlp.catalogue import Catalogue

#: evidence of one matter is capped: a long letter repeating every synonym must not outweigh everything else
MAX_EVIDENCE = 9.0


class KeywordModel:
    """Sum of the weights of a matter's distinct keywords found in the text (capped at :data:`MAX_EVIDENCE`)."""

    def __init__(self, catalogue: Catalogue, codes: tuple[str, ...]) -> None:
        """``codes`` fixes the matter positions used in the evidence mappings."""
        self.codes = codes
        index: dict[str, list[tuple[int, float]]] = {}
        for position, code in enumerate(codes):
            for word, weight in catalogue.matter(code).keywords.items():
                index.setdefault(word, []).append((position, weight))
        self._index = {word: tuple(hits) for word, hits in index.items()}
        self._singles = frozenset(word for word in index if len(word) == 1)
        self._prefixes = frozenset(word[:2] for word in index if len(word) >= 2)
        self._lengths = tuple(sorted({len(word) for word in index if len(word) >= 2}, reverse=True))

    def matches(self, text: str) -> set[str]:
        """The distinct keywords occurring in a normalised text, except those inside a longer match.

        "火灾隐患" is a hazard report, not a fire: an occurrence nested in a longer matched keyword is dropped,
        so the longer, more specific phrase decides.
        """
        index, prefixes, singles, lengths = self._index, self._prefixes, self._singles, self._lengths
        n = len(text)
        spans: list[tuple[int, int]] = []  # (start, length)
        for start in range(n):
            if text[start] in singles:
                spans.append((start, 1))
            if text[start : start + 2] in prefixes:
                for size in lengths:
                    if start + size <= n and text[start : start + size] in index:
                        spans.append((start, size))
        if len(spans) > 1:
            spans.sort(key=lambda span: -span[1])
            covered = bytearray(n)
            kept = []
            for start, size in spans:
                if not all(covered[start : start + size]):
                    kept.append((start, size))
                    covered[start : start + size] = b"\x01" * size
            spans = kept
        return {text[start : start + size] for start, size in spans}

    def evidence(self, text: str) -> dict[int, float]:
        """Keyword evidence per matter position (only matters with evidence) for a normalised text."""
        scores: dict[int, float] = {}
        for word in self.matches(text):
            for position, weight in self._index[word]:
                scores[position] = scores.get(position, 0.0) + weight
        return {position: min(score, MAX_EVIDENCE) for position, score in scores.items()}
