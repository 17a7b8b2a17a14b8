"""Which matter is a resident's message about? Keyword model + learned model + dispatcher memory, combined.

Label spaces differ: training data such as govmsg is labelled with first-level categories, while routing needs
matters (about 100, each in one category).

* **Keyword model alone** (day one, no history): one softmax over the matters with evidence and a "no matter
  fits" option, P(matter) = exp(τ·e_m) / (Σ exp(τ·e) + exp(τ·e_0)), with e_m the keyword evidence
  (:mod:`nlp.keyword`) plus the dispatcher-memory boost, τ = :data:`KEYWORD_SHARPNESS` and e_0 =
  :data:`KEYWORD_NULL_EVIDENCE`: a message whose only evidence is weak or generic stays with the dispatcher.
* **With a learned model**, in two steps: P(category) = softmax_c(a·svm_c + b·g_c + μ·r_c), ``svm_c`` the learned
  margin for the category (−1 for categories it never saw), ``g_c`` the keyword evidence of the category's best
  matter, ``r_c`` the best similarity to a dispatcher-confirmed example of the category; a and b are calibrated
  by cross-validated log-loss (benchmarks/bench_nlp.py). Then P(matter | category) = softmax over the category's
  matters of :data:`MATTER_SHARPNESS`·evidence: the learned model knows *which line* of government, the keywords
  and the dispatchers' examples *which matter*.

Routing sends a ticket to the lead department of the top matter, so whether to route without the dispatcher is
decided on :attr:`Classification.lead_confidence`, the probability of that *department* (the sum over its
matters): two close candidates of the same office are no reason to bother the dispatcher. Ties are broken by
catalogue order, never by hash order, so the same message routes the same way in every process.
:meth:`Classifier.learn` (a dispatcher's choice) takes effect at once through the example memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nlp.catalogue import Catalogue
from nlp.data import DETAIL_CHARS
from nlp.emergency import detect_normalised
from nlp.keyword import KeywordModel
from nlp.learned import LinearModel, from_json_array
from nlp.segment import normalise
from nlp.similarity import ExampleMemory

#: below this confidence the ticket goes to the dispatcher (benchmarks/README.md gives what it routes, and how
#: right, on matter-labelled messages)
DEFAULT_THRESHOLD = 0.5
MAX_CANDIDATES = 5
#: calibration of the combination, fitted by 5-fold cross-validated log-loss on govmsg (bench_nlp.py prints the
#: fit; the bot classifies chat-length text, so the rounded title fit is the default); a model file may override
#: them in its metadata (svm_scale, keyword_scale)
SVM_SCALE = 4.0
KEYWORD_SCALE = 0.3
#: with a learned model: per unit of evidence, how much more likely one matter of a category is than another
MATTER_SHARPNESS = 2.0
#: with a learned model, how much the keyword model's view of the lead department weighs in the routing confidence
AGREEMENT_WEIGHT = 0.8
#: with a learned model: weight of "none of this category's matters" next to each matter's exp(sharpness·evidence)
LEARNED_NULL_WEIGHT = 0.0
#: keyword model alone: per unit of evidence, how much more likely one matter is than another (or than none)
KEYWORD_SHARPNESS = 1.0
#: keyword model alone: evidence of "no matter fits"; a matter needs clearly more to be routed on its own
KEYWORD_NULL_EVIDENCE = 2.8
#: dispatcher examples count only when at least this similar; then they add MEMORY_EVIDENCE x similarity to the
#: matter, i.e. a near-repeat of a corrected message outweighs two decisive keywords of another matter
MEMORY_MIN_SIMILARITY = 0.45
MEMORY_EVIDENCE = 8.0
#: category-level weight of a dispatcher example: it must be able to overrule the learned model's category
MEMORY_CATEGORY_WEIGHT = 8.0


class Candidate(NamedTuple):
    """A matter and the calibrated probability that the message is about it (a named tuple: five of them are
    built per message, and a frozen dataclass costs four times as much to build)."""

    code: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    """Result of classifying one message."""

    candidates: tuple[Candidate, ...]  # best first, at most MAX_CANDIDATES, empty if nothing recognised
    emergency: bool  # a present danger: alert the command centre now (nlp.emergency)
    emergency_kind: str | None = None  # which danger (a key of nlp.emergency.HOTLINES), when emergency
    lead: str | None = None  # lead department code of the top candidate ("township": the request's own)
    lead_confidence: float | None = None  # probability that the message is for that department (routing decides on it)

    @property
    def top(self) -> Candidate | None:
        """The best candidate, if any."""
        return self.candidates[0] if self.candidates else None

    def confident(self, threshold: float) -> bool:
        """Whether the ticket may go to the top candidate's lead department without the dispatcher."""
        top = self.top
        if top is None:
            return False
        return (top.confidence if self.lead_confidence is None else self.lead_confidence) >= threshold


class Components(NamedTuple):
    """The raw evidence of one message, before combination (exposed for calibration and benchmarks)."""

    evidence: dict[int, float]  # matter position (Classifier.codes) -> keyword evidence + memory boost, if > 0
    category_evidence: list[float]  # (C,) best matter evidence per category
    memory: list[float]  # (C,) best dispatcher-example similarity per category
    svm: list[float] | None  # (C,) learned margins per catalogue category, None without a model
    lead_evidence: dict[int, float]  # lead office (KeywordModel.leads position) -> its keywords' evidence + boost


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
        self._null_totals = tuple(count + LEARNED_NULL_WEIGHT for count in self._member_counts)
        self._lead = [m.lead for m in catalogue.matters.values()]
        self._lead_members: dict[str, list[int]] = {}
        for position, lead in enumerate(self._lead):
            self._lead_members.setdefault(lead, []).append(position)
        self._position = {code: i for i, code in enumerate(self.codes)}
        self.keywords = KeywordModel(catalogue, self.codes)
        self._lead_of = self.keywords.lead_of
        self._lead_members_by_index = [self._lead_members[lead] for lead in self.keywords.leads]
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
    def load(cls, catalogue: Catalogue, model_path: Path | None = None) -> Classifier:
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

    def components(self, text: str, detail: str = "") -> Components:
        """Evidence of a normalised text (and optional normalised detail), before combination.

        Category-level arithmetic is on plain lists: with 15 categories, numpy's per-call overhead would cost
        more than the arithmetic (this path runs once per message and must keep pace with segmentation).
        """
        evidence, lead_evidence = self.keywords.evidence_by_lead(text, detail)
        memory = [0.0] * len(self.categories)
        if len(self.memory):
            lead_boost: dict[int, float] = {}
            for code, sim in sorted(self.memory.best(text, MEMORY_MIN_SIMILARITY).items()):
                position = self._position[code]
                boost = MEMORY_EVIDENCE * sim
                evidence[position] = evidence.get(position, 0.0) + boost
                lead = self._lead_of[position]
                lead_boost[lead] = max(lead_boost.get(lead, 0.0), boost)
                category = self._matter_category[position]
                memory[category] = max(memory[category], sim)
            for lead, boost in lead_boost.items():
                lead_evidence[lead] = lead_evidence.get(lead, 0.0) + boost
        category_evidence = [0.0] * len(self.categories)
        of = self._matter_category
        for position, value in evidence.items():
            if value > category_evidence[of[position]]:
                category_evidence[of[position]] = value
        svm = None
        if self._svm_columns is not None:
            margins = self.model.margins(f"{text}\n{detail}" if detail else text)
            margins.append(-1.0)  # column -1: the margin of a category the model was never trained on
            svm = [margins[column] for column in self._svm_columns]
        return Components(evidence, category_evidence, memory, svm, lead_evidence)

    def matter_probabilities(self, comp: Components) -> tuple[dict[int, float], list[float] | None]:
        """P(matter) for the matters with evidence, and per category the share of each matter *without*
        evidence (None with the keyword model alone, where such matters get nothing)."""
        return self._probabilities(comp)[:2]

    def _probabilities(self, comp: Components) -> tuple[dict[int, float], list[float] | None, list[float] | None]:
        """:meth:`matter_probabilities` and, with a learned model, per category the mass of its matters without
        evidence (exactly P(category) for a category without evidence, so that equal categories tie exactly
        and the tie goes to catalogue order, whatever the rounding)."""
        if comp.svm is None:
            return _keyword_probabilities(comp.evidence), None, None
        a, b = self.svm_scale, self.keyword_scale
        logits = [a * s + b * g for s, g in zip(comp.svm, comp.category_evidence, strict=True)]
        if any(comp.memory):
            logits = [x + MEMORY_CATEGORY_WEIGHT * r for x, r in zip(logits, comp.memory, strict=True)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        norm = 1.0 / sum(exps)
        p_category = [e * norm for e in exps]
        of = self._matter_category
        weights = {position: math.exp(MATTER_SHARPNESS * e) for position, e in comp.evidence.items()}
        totals = list(self._null_totals)
        for position, weight in weights.items():
            totals[of[position]] += weight - 1.0
        # each matter without evidence weighs 1 among its category's total weight (+ the null weight)
        shares = [p / t for p, t in zip(p_category, totals, strict=True)]
        masses = [p * (count / t) for p, count, t in zip(p_category, self._member_counts, totals, strict=True)]
        return {pos: shares[of[pos]] * w for pos, w in weights.items()}, shares, masses

    def category_probabilities(self, comp: Components) -> list[float] | None:
        """P(category) (C,) from the components; None when nothing at all was recognised."""
        p_matter, shares = self.matter_probabilities(comp)
        if shares is None and not p_matter:
            return None
        result = [0.0] * len(self.categories)
        if shares is not None:
            for category, share in enumerate(shares):
                result[category] = share * self._member_counts[category]
        for position, p in p_matter.items():
            category = self._matter_category[position]
            result[category] += p - (shares[category] if shares is not None else 0.0)
        return result

    def ranked_matters(self, comp: Components) -> list[tuple[float, int]]:
        """The best (P(matter), position) pairs, best first (ties: catalogue order), at most MAX_CANDIDATES.

        With a learned model the list is filled up with matters of the most probable category that have no
        keyword evidence (equal shares): the dispatcher's likely picks when the model knows the line of
        government but no keyword the matter.
        """
        return self._ranked(*self._probabilities(comp))

    def _ranked(
        self, p_matter: dict[int, float], shares: list[float] | None, masses: list[float] | None
    ) -> list[tuple[float, int]]:
        ranked = [(-p, pos) for pos, p in p_matter.items()]
        if shares is not None and masses is not None:
            category = masses.index(max(masses))  # the first of equals: catalogue order
            share = -shares[category]
            ranked += [(share, pos) for pos in self._members[category] if pos not in p_matter][:MAX_CANDIDATES]
        ranked.sort()  # by probability, then catalogue position: never by hash order
        return [(-p, pos) for p, pos in ranked[:MAX_CANDIDATES] if p < 0]

    def lead_confidence(self, comp: Components, position: int) -> float:
        """Probability that the message is for the lead department of the matter at ``position``.

        With a learned model, the weighted geometric mean of the combination's and the keyword model's
        probability of that department (weight :data:`AGREEMENT_WEIGHT` on the keywords): a ticket is routed
        without the dispatcher only when the catalogue (and the dispatchers' examples) agree with the model.
        """
        return self._lead_confidence(comp, *self.matter_probabilities(comp), position)

    def _lead_confidence(
        self, comp: Components, p_matter: dict[int, float], shares: list[float] | None, position: int
    ) -> float:
        lead = self._lead_of[position]
        # The keyword model's view of the office: a softmax over the offices with evidence and "no matter fits".
        agreement = _keyword_probability(comp.lead_evidence, lead)
        if shares is None:
            return agreement
        if not comp.evidence:
            return 0.0
        of = self._matter_category
        p_lead = sum([p_matter.get(pos, shares[of[pos]]) for pos in self._lead_members_by_index[lead]])
        return p_lead ** (1.0 - AGREEMENT_WEIGHT) * agreement**AGREEMENT_WEIGHT

    def classify(self, text: str, detail: str = "") -> Classification:
        """Top matters with calibrated confidence, the lead department, and whether it is an emergency.

        ``text`` is the message (for a letter, its title); ``detail`` an optional longer body, which helps
        choose the matter but does not raise emergencies (:data:`nlp.emergency.LEAD_CHARS`).
        """
        normalised = normalise(text)
        detail = normalise(detail)[:DETAIL_CHARS] if detail else ""
        danger = detect_normalised(normalised)
        emergency, kind = danger is not None, danger.kind if danger is not None else None
        if not normalised and not detail:
            return Classification((), False)
        comp = self.components(normalised, detail)
        p_matter, shares, masses = self._probabilities(comp)
        ranked = self._ranked(p_matter, shares, masses)
        if not ranked:
            return Classification((), emergency, kind)
        codes, new = self.codes, tuple.__new__  # a named tuple's own __new__ is a Python call: 0.3 µs each
        candidates = tuple([new(Candidate, (codes[pos], round(p, 4))) for p, pos in ranked])
        position = ranked[0][1]
        lead_p = round(min(1.0, self._lead_confidence(comp, p_matter, shares, position)), 4)
        return Classification(candidates, emergency, kind, self._lead[position], lead_p)

    def category_of(self, text: str, detail: str = "") -> str | None:
        """Most probable first-level category of a message (None if nothing recognised): for evaluation."""
        normalised = normalise(text)
        detail = normalise(detail)[:DETAIL_CHARS]
        if not normalised and not detail:
            return None
        p_category = self.category_probabilities(self.components(normalised, detail))
        if p_category is None:
            return None
        return self.categories[max(range(len(p_category)), key=lambda c: (p_category[c], -c))]


def _keyword_probabilities(evidence: dict[int, float]) -> dict[int, float]:
    """Keyword model alone: P(matter) for the matters with evidence, next to a "no matter fits" option (also
    P(office) for evidence per lead office)."""
    sharpness = KEYWORD_SHARPNESS
    top = max([KEYWORD_NULL_EVIDENCE, *evidence.values()])
    weights = {pos: math.exp(sharpness * (e - top)) for pos, e in evidence.items()}
    total = sum(weights.values()) + math.exp(sharpness * (KEYWORD_NULL_EVIDENCE - top))
    return {pos: w / total for pos, w in weights.items()}


def _keyword_probability(evidence: dict[int, float], key: int) -> float:
    """``_keyword_probabilities(evidence).get(key, 0.0)``, computing one quotient."""
    own = evidence.get(key)
    if own is None:
        return 0.0
    sharpness = KEYWORD_SHARPNESS
    top = max(KEYWORD_NULL_EVIDENCE, max(evidence.values()))
    total = math.exp(sharpness * (KEYWORD_NULL_EVIDENCE - top))
    for e in evidence.values():
        total += math.exp(sharpness * (e - top))
    return math.exp(sharpness * (own - top)) / total


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
