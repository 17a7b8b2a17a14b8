"""Which matter is a resident's message about? Keyword model + learned model + dispatcher memory, combined.

Label spaces differ: training data such as govmsg is labelled with first-level categories, while routing needs
matters (about 100, each in one category). The combination works in two steps:

1. P(category | text) = softmax_c( a·svm_c + b·g_c + μ·r_c ), where ``svm_c`` is the learned model's margin for
   the category (−1, "not this one", for categories it never saw), ``g_c`` the keyword evidence of the
   category's best matter and ``r_c`` the best similarity to a dispatcher-confirmed example of the category.
   a and b are calibrated by cross-validated log-loss (benchmarks/bench_nlp.py), so P is a probability.
   Without a learned model: softmax over the categories with evidence plus a "nothing recognised" option of
   evidence :data:`KEYWORD_NULL_EVIDENCE`; no evidence at all gives no candidates.
2. P(matter | category) = softmax over the category's matters of τ·(keyword evidence + memory boost): the
   learned model knows *which line* of government, the keywords and the dispatchers' examples *which matter*.

P(matter) = P(category)·P(matter | category) is the candidate's confidence. The dispatcher's choices
(:meth:`Classifier.learn`) enter immediately through the example memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np

from nlp.catalogue import Catalogue
from nlp.keyword import KeywordModel
from nlp.learned import LinearModel, from_json_array
from nlp.segment import normalise
from nlp.similarity import ExampleMemory

#: below this confidence the ticket goes to the dispatcher. At 0.5, in 5-fold cross-validation on govmsg titles,
#: 72 % of messages are routed automatically and 93 % of those land in the right category (benchmarks/README.md);
#: for the keyword model alone a single decisive keyword (weight 3) suffices and a weak one (≤ 1.5) does not.
DEFAULT_THRESHOLD = 0.5
MAX_CANDIDATES = 5
#: calibration of the combination, fitted by 5-fold cross-validated log-loss on govmsg (bench_nlp.py prints the
#: fit: a = 4.25 / 4.75 and b = 0.30 / 0.15 for titles / title+detail; the bot classifies chat-length text, so the
#: rounded title fit is the default); a model file may override them in its metadata (svm_scale, keyword_scale)
SVM_SCALE = 4.0
KEYWORD_SCALE = 0.3
#: per unit of evidence, how much more likely one matter of a category is than another (e^2 ≈ 7x)
MATTER_SHARPNESS = 2.0
#: evidence of "nothing recognised" for the keyword model alone: one keyword of weight 2 is a coin toss
KEYWORD_NULL_EVIDENCE = 2.0
#: dispatcher examples count only when at least this similar; then they add MEMORY_EVIDENCE x similarity to the
#: matter, i.e. a near-repeat of a corrected message outweighs two decisive keywords of another matter
MEMORY_MIN_SIMILARITY = 0.45
MEMORY_EVIDENCE = 8.0
#: category-level weight of a dispatcher example: it must be able to overrule the learned model's category
MEMORY_CATEGORY_WEIGHT = 8.0
#: keyword evidence for an emergency matter that raises the emergency flag (one decisive keyword)
EMERGENCY_EVIDENCE = 3.0
# Words that turn an emergency word into a report about risk, prevention or the past ("火灾隐患", "消防演练"),
# which is routine work, not a call for help.
_DEFUSING = re.compile(r"隐患|预防|防范|演练|宣传|培训|检查|排查|整改|去年|以前|曾经|上个月|上周")


@dataclass(frozen=True)
class Candidate:
    """A matter and the calibrated probability that the message is about it."""

    code: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    """Result of classifying one message."""

    candidates: tuple[Candidate, ...]  # best first, at most MAX_CANDIDATES, empty if nothing recognised
    emergency: bool

    @property
    def top(self) -> Candidate | None:
        """The best candidate, if any."""
        return self.candidates[0] if self.candidates else None

    def confident(self, threshold: float) -> bool:
        """Whether the best candidate may be routed without the dispatcher."""
        return self.top is not None and self.top.confidence >= threshold


@dataclass(frozen=True)
class Components:
    """The raw evidence of one message, before combination (exposed for calibration and benchmarks)."""

    evidence: dict[int, float]  # matter position (Classifier.codes) -> keyword evidence + memory boost, if > 0
    category_evidence: list[float]  # (C,) best matter evidence per category
    memory: list[float]  # (C,) best dispatcher-example similarity per category
    svm: list[float] | None  # (C,) learned margins per catalogue category, None without a model


class Classifier:
    """Routes a message to matters of a catalogue. Not thread-safe for ``learn`` (the bot runs one loop)."""

    def __init__(self, catalogue: Catalogue, model: LinearModel | None = None) -> None:
        self.catalogue = catalogue
        self.model = model
        self.categories: tuple[str, ...] = tuple(dict.fromkeys(m.category1 for m in catalogue.matters.values()))
        self.codes: tuple[str, ...] = tuple(catalogue.matters)
        category_index = {c: i for i, c in enumerate(self.categories)}
        self._matter_category = [category_index[m.category1] for m in catalogue.matters.values()]
        self._members: list[list[int]] = [[] for _ in self.categories]
        for position, category in enumerate(self._matter_category):
            self._members[category].append(position)
        self._member_counts = tuple(float(len(members)) for members in self._members)
        self._emergency = frozenset(i for i, m in enumerate(catalogue.matters.values()) if m.emergency)
        self._position = {code: i for i, code in enumerate(self.codes)}
        self.keywords = KeywordModel(catalogue, self.codes)
        self.memory = ExampleMemory()
        self.svm_scale = SVM_SCALE
        self.keyword_scale = KEYWORD_SCALE
        self._svm_columns: list[int] | None = None
        if model is not None:
            self.svm_scale = float(model.meta.get("svm_scale", SVM_SCALE))
            self.keyword_scale = float(model.meta.get("keyword_scale", KEYWORD_SCALE))
            # Margin column per catalogue category; categories the model was never trained on get -1.
            label_index = {label: i for i, label in enumerate(model.labels)}
            self._svm_columns = [label_index.get(c, -1) for c in self.categories]

    @classmethod
    def load(cls, catalogue: Catalogue, model_path: Path | None = None) -> "Classifier":
        """Keyword model alone, or with the learned model (and the history stored in it) from ``model_path``."""
        if model_path is None:
            return cls(catalogue)
        model, extra = LinearModel.load(Path(model_path))
        classifier = cls(catalogue, model)
        if "history" in extra:
            # History of a matter since removed from the catalogue cannot route anywhere: skip it.
            classifier.learn_many(
                (text, code) for text, code in from_json_array(extra["history"]) if code in catalogue.matters
            )
        return classifier

    def learn(self, text: str, matter_code: str) -> None:
        """A dispatcher confirmed or corrected the matter of ``text``: similar messages follow at once."""
        self.catalogue.matter(matter_code)  # KeyError for an unknown matter, before anything is stored
        self.memory.add(text, matter_code)

    def learn_many(self, samples: Iterable[tuple[str, str]]) -> None:
        """Replay stored dispatcher decisions (at start-up)."""
        for text, code in samples:
            self.learn(text, code)

    def components(self, text: str) -> Components:
        """Evidence of a normalised text, before combination.

        Category-level arithmetic is on plain lists: with 15 categories, numpy's per-call overhead would cost
        more than the arithmetic (this path runs once per message and must keep pace with segmentation).
        """
        evidence = self.keywords.evidence(text)
        memory = [0.0] * len(self.categories)
        for code, sim in self.memory.best(text, MEMORY_MIN_SIMILARITY).items():
            position = self._position[code]
            evidence[position] = evidence.get(position, 0.0) + MEMORY_EVIDENCE * sim
            category = self._matter_category[position]
            memory[category] = max(memory[category], sim)
        category_evidence = [0.0] * len(self.categories)
        for position, value in evidence.items():
            category = self._matter_category[position]
            if value > category_evidence[category]:
                category_evidence[category] = value
        svm = None
        if self.model is not None and self._svm_columns is not None:
            margins = self.model.margins(text)
            svm = [margins[column] if column >= 0 else -1.0 for column in self._svm_columns]
        return Components(evidence, category_evidence, memory, svm)

    def category_probabilities(self, comp: Components) -> list[float] | None:
        """P(category) (C,) from the components; None when nothing at all was recognised."""
        memory_weight = MEMORY_CATEGORY_WEIGHT
        if comp.svm is None:
            if not comp.evidence:
                return None
            logits = [
                g + memory_weight * r if g > 0 else -math.inf for g, r in zip(comp.category_evidence, comp.memory)
            ]
            return _softmax(logits, null_logit=KEYWORD_NULL_EVIDENCE)
        a, b = self.svm_scale, self.keyword_scale
        return _softmax(
            [a * s + b * g + memory_weight * r for s, g, r in zip(comp.svm, comp.category_evidence, comp.memory)]
        )

    def ranked_matters(self, comp: Components, p_category: list[float]) -> list[tuple[float, int]]:
        """The best (P(matter), position) pairs, best first, at most MAX_CANDIDATES.

        P(matter | category) is the softmax of MATTER_SHARPNESS x evidence over the category's matters; with the
        keyword model alone only matters with evidence take part. Matters without evidence all share
        exp(0) = 1, so the normaliser is computed from the few matters with evidence only.
        """
        learned = comp.svm is not None
        of = self._matter_category
        weights = {position: math.exp(MATTER_SHARPNESS * e) for position, e in comp.evidence.items()}
        if learned:
            totals = list(self._member_counts)
            for position, weight in weights.items():
                totals[of[position]] += weight - 1.0
        else:
            totals = [0.0] * len(self._members)
            for position, weight in weights.items():
                totals[of[position]] += weight
        ranked = [(p_category[of[pos]] * w / totals[of[pos]], pos) for pos, w in weights.items()]
        if learned:
            # Fill up with matters of the most probable category that have no evidence (equal shares): they are
            # the dispatcher's likely picks when the learned model knows the line but no keyword the matter.
            category = p_category.index(max(p_category))
            share = p_category[category] / totals[category]
            extra = [pos for pos in self._members[category] if pos not in weights]
            ranked.extend((share, pos) for pos in extra[:MAX_CANDIDATES])
        ranked.sort(key=_first, reverse=True)  # stable, as sorting by -p: ties keep their order
        return [item for item in ranked[:MAX_CANDIDATES] if item[0] > 0]

    def classify(self, text: str) -> Classification:
        """Top matters with calibrated confidence, and whether the message reports an emergency."""
        normalised = normalise(text)
        if not normalised:
            return Classification((), False)
        comp = self.components(normalised)
        emergency = False
        for position, e in comp.evidence.items():
            if e >= EMERGENCY_EVIDENCE and position in self._emergency:
                emergency = not _DEFUSING.search(normalised)
                break
        p_category = self.category_probabilities(comp)
        if p_category is None:
            return Classification((), emergency)
        codes = self.codes
        candidates = tuple([Candidate(codes[pos], round(p, 4)) for p, pos in self.ranked_matters(comp, p_category)])
        return Classification(candidates, emergency)

    def category_of(self, text: str) -> str | None:
        """Most probable first-level category of a message (None if nothing recognised): for evaluation."""
        normalised = normalise(text)
        if not normalised:
            return None
        p_category = self.category_probabilities(self.components(normalised))
        if p_category is None:
            return None
        return self.categories[max(range(len(p_category)), key=p_category.__getitem__)]


_first = itemgetter(0)


def _softmax(logits: list[float], null_logit: float | None = None) -> list[float]:
    """Softmax of a short list; with ``null_logit``, an implicit "none of these" option whose mass is dropped."""
    top = max(logits) if null_logit is None else max(max(logits), null_logit)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps) + (0.0 if null_logit is None else math.exp(null_logit - top))
    return [x / total for x in exps]


def fit_calibration(
    svm: np.ndarray, category_evidence: np.ndarray, gold: np.ndarray
) -> tuple[float, float, float]:
    """(svm_scale, keyword_scale, log-loss) minimising the log-loss of P(category) on held-out rows.

    ``svm`` and ``category_evidence`` are (N, C) components of held-out messages, ``gold`` their category
    indices. A grid search: two parameters, a smooth convex-ish surface, and it must not depend on scipy.
    """
    best = (SVM_SCALE, KEYWORD_SCALE, math.inf)
    rows = np.arange(len(gold))
    for a in np.arange(1.0, 8.01, 0.25):
        for b in np.arange(0.0, 1.51, 0.05):
            logits = a * svm + b * category_evidence
            logits -= logits.max(axis=1, keepdims=True)
            log_p = logits[rows, gold] - np.log(np.exp(logits).sum(axis=1))
            loss = float(-log_p.mean())
            if loss < best[2]:
                best = (float(a), float(b), loss)
    return best
