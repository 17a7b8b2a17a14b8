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
        # For each two-character prefix, the lengths of the keywords starting with it (longest first): a text
        # position costs one lookup, and only lengths that can match are tried.
        lengths: dict[str, set[int]] = {}
        for word in index:
            if len(word) >= 2:
                lengths.setdefault(word[:2], set()).add(len(word))
        self._prefix_lengths = {prefix: tuple(sorted(sizes, reverse=True)) for prefix, sizes in lengths.items()}

    def matches(self, text: str) -> set[str]:
        """The distinct keywords occurring in a normalised text, except those inside a longer match.

        "火灾隐患" is a hazard report, not a fire: an occurrence nested in a longer matched keyword is dropped,
        so the longer, more specific phrase decides.
        """
        index, prefix_lengths, singles = self._index, self._prefix_lengths, self._singles
        n = len(text)
        spans: list[tuple[int, int]] = []  # (start, length)
        for start, char in enumerate(text):
            if char in singles:
                spans.append((start, 1))
            sizes = prefix_lengths.get(text[start : start + 2])
            if sizes:
                for size in sizes:
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
