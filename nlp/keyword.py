"""The keyword model: evidence per matter from the catalogue's weighted keywords. Works with no history at all.

Keywords are matched as substrings of the normalised text, not as jieba tokens: residents' phrasing rarely
aligns with the segmenter ("暖气不热了" must hit "暖气不热" and "暖气"). A two-character prefix set makes the
scan cost about one lookup per character, so it adds little to segmentation.

What a match is worth, and why (each rule fixes a way the plain sum of weights misrouted):

* **Specificity.** A keyword that occurs inside the keywords of many offices ("补贴" in keywords of 人社, 民政,
  农业农村, 住建 ...) says little about which one is meant: its weight is divided by ``1 + SPECIFICITY·ln(df)``, df
  being the number of lead offices with a keyword containing it. Derived from the catalogue alone, at load.
* **Mood and process words never decide** (:data:`NEUTRAL_WORDS`: 没人管, 不作为, 投诉, 强烈要求 ...). They are
  matched like keywords, so that they also hide what is nested in them, and then count for nothing.
* **Hypothetical consequences are not the matter.** A keyword right after 差点, 万一, 容易, 以免 ... in the same
  clause ("差点出车祸" about a pothole) counts :data:`CONSEQUENCE_FACTOR` of its weight.
* **Diminishing returns.** Within a matter the distinct keywords' weights are sorted and added with factors 1,
  r, r², ... (r = :data:`REPEAT_FACTOR`): one specific term beats a pile of loosely related ones, and a long
  letter that repeats every synonym does not outweigh everything else. The same rule gives each **lead office**
  its evidence from the distinct keywords of all its matters (:meth:`KeywordModel.evidence_by_lead`): routing
  decides on the office, and two signs of one office ("拖欠工资", "劳动合同") are stronger than either.
* **The title decides, the detail helps.** Keywords found only in a message's detail add
  :data:`DETAIL_WEIGHT` of their weight, so the detail can break a tie or rescue a vague title without its
  noise overruling what the title says.
"""

from __future__ import annotations

import math
import re

from nlp.catalogue import Catalogue

#: evidence of one matter is capped (a long text naming every synonym)
MAX_EVIDENCE = 9.0
#: how strongly a keyword shared by many matters is discounted: weight / (1 + SPECIFICITY·ln df)
SPECIFICITY = 1.0
#: weight of the second-best distinct keyword of a matter relative to the best, of the third to the second...
REPEAT_FACTOR = 0.8
#: share of its weight a keyword found only in the detail adds
DETAIL_WEIGHT = 0.5
#: a keyword naming a fault (路灯不亮, 拖欠工资, 乱收费) outweighs context words of the same weight (学生, 小区)
PROBLEM_BONUS = 1.25
_FAULT = re.compile(r"[不没无坏破损漏堵塌乱违偷欠拖扣假骗差难停断臭吵脏污超霸逃缺丢]")
#: a four-character keyword split by up to GAP characters ("拖欠了三个月工资") counts this share of its weight
GAPPED_FACTOR = 0.7
GAP = 6
#: share of its weight a keyword keeps right after a hypothetical or near-miss marker (差点出车祸)
CONSEQUENCE_FACTOR = 0.3
#: characters before a keyword in which a consequence marker applies (same clause only)
CONSEQUENCE_WINDOW = 6

#: Words of mood, urgency or process: how a resident feels about the handling, not which matter it is. Matched
#: (so that keywords nested in them do not count either) and then worth nothing. A catalogue keyword that is one
#: of these is ignored.
NEUTRAL_WORDS = frozenset(
    {
        "没人管", "无人管", "没有人管", "不管不问", "不闻不问", "没人理", "不作为", "乱作为", "慢作为", "推诿", "推诿扯皮",
        "扯皮", "踢皮球", "不回复", "不处理", "没处理", "不解决", "没解决", "拖着不办", "投诉", "举报", "反映", "反应",
        "强烈要求", "强烈反对", "强烈", "要求", "请求", "恳请", "恳求", "希望", "建议", "咨询", "请问", "求助", "呼吁",
        "问题", "严重", "非常", "十分", "特别", "太差", "极差", "很差", "差劲", "气愤", "愤怒", "无奈", "心寒", "寒心",
        "领导", "政府", "相关部门", "有关部门", "主管部门", "职能部门", "何时", "什么时候", "为什么", "为何", "怎么办",
        "怎么回事", "到底", "尽快", "马上", "立即", "紧急", "急需", "迫切", "长期", "多次", "一直", "至今", "仍然",
        "差点", "险些", "老百姓", "群众", "市民", "居民", "村民", "百姓", "民生", "服务态度", "态度恶劣", "态度差",
    }
)
# Markers after which an event is a possible consequence, not what the message is about.
_CONSEQUENCE = re.compile(r"差点|险些|差一点|万一|一旦|如果|假如|要是|容易|极易|可能|随时|担心|害怕|以免|避免|防止|预防")
_CLAUSE_BREAK = re.compile(r"[。！？!?；;，,、\n\r\t ]")


def keyword_specificity(catalogue: Catalogue) -> dict[str, float]:
    """Discount factor (0, 1] per keyword: 1 / (1 + SPECIFICITY·ln df), df = lead offices with a keyword
    containing it.

    "小区" sits inside keywords of 物业 (住建局) and of 社区 (民政局), "医保" only inside medical-insurance ones:
    the catalogue itself says which words are generic. Offices, not matters: a word shared by two matters of one
    office still points at that office (counting matters measured worse, benchmarks/README.md). Quadratic in the number of keywords (~3k): a few 10 ms, once.
    """
    owners: dict[str, set[str]] = {}
    for matter in catalogue.matters.values():
        for word in matter.keywords:
            owners.setdefault(word, set()).add(matter.lead)
    by_first: dict[str, list[str]] = {}
    for word in owners:
        for char in set(word):
            by_first.setdefault(char, []).append(word)
    result = {}
    for word in owners:
        holders: set[str] = set()
        for other in by_first[word[0]]:
            if word in other:
                holders |= owners[other]
        result[word] = 1.0 / (1.0 + SPECIFICITY * math.log(len(holders)))
    return result


class KeywordModel:
    """Evidence per matter from the distinct keywords found in a message (see the module doc for the rules)."""

    def __init__(self, catalogue: Catalogue, codes: tuple[str, ...]) -> None:
        """``codes`` fixes the matter positions used in the evidence mappings."""
        self.codes = codes
        specificity = keyword_specificity(catalogue)
        index: dict[str, list[tuple[int, float]]] = {word: [] for word in NEUTRAL_WORDS}
        for position, code in enumerate(codes):
            for word, weight in catalogue.matter(code).keywords.items():
                hits = index.setdefault(word, [])
                if word not in NEUTRAL_WORDS:
                    bonus = PROBLEM_BONUS if _FAULT.search(word) else 1.0
                    hits.append((position, weight * specificity[word] * bonus))
        self._index = {word: tuple(hits) for word, hits in index.items()}
        # The same per lead office: each keyword counts once per office, at its best weight among the office's
        # matters, so that keywords of several matters of one office add up like keywords of one matter.
        lead_position: dict[str, int] = {}
        for code in codes:
            lead_position.setdefault(catalogue.matter(code).lead, len(lead_position))
        self.leads: tuple[str, ...] = tuple(lead_position)
        self.lead_of: tuple[int, ...] = tuple(lead_position[catalogue.matter(code).lead] for code in codes)
        self._lead_index: dict[str, tuple[tuple[int, float], ...]] = {}
        for word, hits in self._index.items():
            best: dict[int, float] = {}
            for position, weight in hits:
                lead = self.lead_of[position]
                best[lead] = max(best.get(lead, 0.0), weight)
            self._lead_index[word] = tuple(sorted(best.items()))
        self._singles = frozenset(word for word in index if len(word) == 1)
        # For each two-character prefix: the lengths of the keywords starting with it (longest first), so that a
        # text position costs one lookup and only lengths that can match are tried; and the four-character
        # keywords it is the first half of (second half, keyword), for matches split by a few characters.
        lengths: dict[str, set[int]] = {}
        halves: dict[str, list[tuple[str, str]]] = {}
        for word, hits in self._index.items():
            if len(word) >= 2:
                lengths.setdefault(word[:2], set()).add(len(word))
            if hits and len(word) == 4 and GAPPED_FACTOR > 0:
                halves.setdefault(word[:2], []).append((word[2:], word))
        self._heads = frozenset(prefix[0] for prefix in lengths.keys() | halves.keys()) | self._singles
        self._prefixes = {
            prefix: (tuple(sorted(lengths.get(prefix, ()), reverse=True)), tuple(halves.get(prefix, ())))
            for prefix in lengths.keys() | halves.keys()
        }

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, length) of the keywords (neutral words included) in a normalised text, in text order, except
        occurrences inside a longer match: "火灾隐患" is a hazard report, not a fire, so the longer phrase decides.
        """
        return self._scan(text)[0]

    def _scan(self, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, tuple[tuple[str, str], ...]]]]:
        """The spans, and the positions where a four-character keyword's first half starts (for _gapped)."""
        index, prefixes, singles, heads = self._index, self._prefixes, self._singles, self._heads
        n = len(text)
        spans: list[tuple[int, int]] = []
        firsts = []
        for start, char in enumerate(text):
            if char not in heads:  # most characters of a message start no keyword: no slice, no lookup
                continue
            if char in singles:
                spans.append((start, 1))
            entry = prefixes.get(text[start : start + 2])
            if entry:
                sizes, seconds = entry
                for size in sizes:
                    if start + size <= n and text[start : start + size] in index:
                        spans.append((start, size))
                if seconds:
                    firsts.append((start, seconds))
        if len(spans) > 1 and any(a + size > b for (a, size), (b, _) in zip(spans, spans[1:], strict=False)):
            spans.sort(key=lambda span: (-span[1], span[0]))
            covered = bytearray(n)
            kept = []
            for start, size in spans:
                if not all(covered[start : start + size]):
                    kept.append((start, size))
                    covered[start : start + size] = b"\x01" * size
            spans = sorted(kept)
        return spans, firsts

    def matches(self, text: str) -> list[str]:
        """The distinct keywords that count in a normalised text, in order of first occurrence."""
        words = (text[start : start + size] for start, size in self.spans(text))
        return list(dict.fromkeys(word for word in words if self._index[word]))

    def _weights(self, text: str) -> dict[str, float]:
        """Factor per distinct counting keyword of a text (the best of its occurrences): 1 for a plain match,
        GAPPED_FACTOR for a four-character keyword found split in two (拖欠…工资), times CONSEQUENCE_FACTOR
        after a hypothetical or near-miss marker in the same clause."""
        spans, firsts = self._scan(text)
        index = self._index
        found = [(start, word, 1.0) for start, size in spans if index[word := text[start : start + size]]]
        if firsts:
            found += _gapped(text, firsts)
        markers = [m.end() for m in _CONSEQUENCE.finditer(text)]
        if not markers:
            factors = {word: 1.0 for _, word, factor in found if factor == 1.0}
            for _, word, factor in found:
                factors.setdefault(word, factor)
            return factors
        factors: dict[str, float] = {}
        for start, word, factor in found:
            for end in markers:
                if start - CONSEQUENCE_WINDOW <= end <= start and not _CLAUSE_BREAK.search(text, end, start):
                    factor *= CONSEQUENCE_FACTOR
                    break
            if factor > factors.get(word, 0.0):
                factors[word] = factor
        return factors

    def evidence(self, text: str, detail: str = "") -> dict[int, float]:
        """Keyword evidence per matter position (only matters with evidence) of a normalised title and detail."""
        return _combine(self._found(text, detail), self._index)

    def evidence_by_lead(self, text: str, detail: str = "") -> tuple[dict[int, float], dict[int, float]]:
        """Evidence per matter position and per lead office (position in :attr:`leads`), from one scan.

        An office's evidence combines the distinct keywords of all its matters with the same diminishing returns
        as a matter's ("拖欠工资" of 欠薪 and "劳动合同" of 劳动关系 are two signs of 人社局): the office is what
        routing decides on, and a keyword listed under two of its matters counts once.
        """
        found = self._found(text, detail)
        return _combine(found, self._index), _combine(found, self._lead_index)

    def _found(self, text: str, detail: str) -> dict[str, float]:
        """Factor per distinct counting keyword of a title and its detail (detail-only keywords damped)."""
        weights = self._weights(text)
        if detail:
            for word, factor in self._weights(detail).items():
                if word not in weights:
                    weights[word] = DETAIL_WEIGHT * factor
        return weights


def _combine(weights: dict[str, float], index: dict[str, tuple[tuple[int, float], ...]]) -> dict[int, float]:
    """Evidence per position of ``index`` (matter or lead office) from the factors of the keywords found: the
    distinct keywords' weights, best first, added with factors 1, r, r², ... and capped at MAX_EVIDENCE."""
    contributions: dict[int, list[float]] = {}
    for word, factor in weights.items():
        for position, weight in index[word]:
            if position in contributions:
                contributions[position].append(weight * factor)
            else:
                contributions[position] = [weight * factor]
    evidence = {}
    for position in sorted(contributions):
        values = contributions[position]
        if len(values) == 1:
            evidence[position] = min(values[0], MAX_EVIDENCE)
            continue
        total, scale = 0.0, 1.0
        for value in sorted(values, reverse=True):
            total += scale * value
            scale *= REPEAT_FACTOR
        evidence[position] = min(total, MAX_EVIDENCE)
    return evidence

def _gapped(text: str, firsts: list[tuple[int, tuple[tuple[str, str], ...]]]) -> list[tuple[int, str, float]]:
    """Four-character keywords whose halves occur in order in one clause with 1 to GAP characters between them
    ("拖欠了三个月工资", "路灯一直不亮"): (start, keyword, GAPPED_FACTOR). ``firsts``: where first halves start."""
    result = []
    n = len(text)
    for start, seconds in firsts:
        window_end = min(n, start + 4 + GAP)
        stop = _CLAUSE_BREAK.search(text, start + 2, window_end)
        window = text[start + 3 : stop.start() if stop else window_end]
        for second, word in seconds:
            if second in window:
                result.append((start, word, GAPPED_FACTOR))
    return result
