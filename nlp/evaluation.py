"""Matter-level evaluation: does the router send each message to the office that really handles it?

A labelled file has the columns ``title``, ``detail`` and ``matter`` (a catalogue matter code, or ``NONE`` when no
matter fits: such a message should go to the dispatcher). Every record gets a prediction, in order, whatever it
holds: a record without a title is classified on its detail in ``title+detail`` mode and predicts nothing in
``title`` mode; a record with an empty ``matter`` cell is predicted but not scored.

The figures (all shares of the scored rows):

* ``matter_accuracy`` — the top matter is the labelled one (for ``NONE``: the message was not routed);
* ``lead_accuracy`` — the top matter's lead department is the labelled matter's (``NONE``: not routed);
* ``routed_share`` — routed without the dispatcher (``Classification.confident`` at the threshold);
* ``confidently_wrong_share`` — routed, to a lead department other than the labelled one (every routed ``NONE``);
* ``lead_accuracy_routed`` — among the routed, the share that reached the right lead department;
* ``emergency_flags`` — messages flagged as an emergency.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.catalogue import Catalogue
from nlp.classifier import DEFAULT_THRESHOLD, Classifier
from nlp.data import DataError, read_records

#: the label of a message that fits no matter of the catalogue
NONE = "NONE"
PREDICTION_COLUMNS = ("matter", "lead", "confidence", "routed", "emergency")
#: lower bounds of the confidence buckets of the report
BUCKETS = (0.0, 0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class MatterRow:
    title: str
    detail: str
    matter: str  # a matter code, NONE, or "" (not scored)


@dataclass(frozen=True)
class Prediction:
    matter: str  # "" when nothing was recognised
    lead: str
    confidence: float  # what routing is decided on: Classification.lead_confidence
    routed: bool
    emergency: bool


def read_matter_csv(path: str | Path, catalogue: Catalogue) -> list[MatterRow]:
    """Every record of a CSV with columns title, matter (and optionally detail); DataError for unknown codes."""
    _, records = read_records(path, ("title", "matter"))
    rows = [MatterRow(r["title"], r.get("detail", ""), r["matter"]) for r in records]
    unknown = sorted({r.matter for r in rows if r.matter and r.matter != NONE and r.matter not in catalogue.matters})
    if unknown:
        raise DataError(f"{path}: unknown matter code(s) {', '.join(unknown[:5])} (use catalogue codes or {NONE})")
    if not any(r.matter for r in rows):
        raise DataError(f"{path}: no row has a matter label")
    return rows


def predict(classifier: Classifier, title: str, detail: str, text_mode: str,
            threshold: float = DEFAULT_THRESHOLD) -> Prediction:
    """What the bot would do with one message in the given text mode."""
    result = classifier.classify(title, detail if text_mode == "title+detail" else "")
    top = result.top
    if top is None:
        return Prediction("", "", 0.0, False, result.emergency)
    confidence = top.confidence if result.lead_confidence is None else result.lead_confidence
    return Prediction(top.code, result.lead or "", confidence, result.confident(threshold), result.emergency)


def matter_report(catalogue: Catalogue, rows: Sequence[MatterRow], predictions: Sequence[Prediction]) -> dict:
    """The matter-level figures (module doc) over the rows with a label, overall and per confidence bucket."""
    scored = [(row, p) for row, p in zip(rows, predictions, strict=True) if row.matter]
    n = len(scored)

    def right_lead(row: MatterRow, p: Prediction) -> bool:
        if row.matter == NONE:
            return not p.routed
        return bool(p.matter) and p.lead == catalogue.matter(row.matter).lead

    def right_matter(row: MatterRow, p: Prediction) -> bool:
        return not p.routed if row.matter == NONE else p.matter == row.matter

    routed = [(row, p) for row, p in scored if p.routed]
    wrong = sum(1 for row, p in routed if not right_lead(row, p))
    buckets = []
    for i, low in enumerate(BUCKETS):
        high = BUCKETS[i + 1] if i + 1 < len(BUCKETS) else 1.01
        members = [(row, p) for row, p in scored if low <= p.confidence < high]
        buckets.append({
            "confidence": f"{low:.1f}-{min(high, 1.0):.1f}", "n": len(members),
            "lead_accuracy": round(sum(right_lead(r, p) for r, p in members) / len(members), 4) if members else None,
        })
    return {
        "n": n,
        "matter_accuracy": round(sum(right_matter(r, p) for r, p in scored) / n, 4),
        "lead_accuracy": round(sum(right_lead(r, p) for r, p in scored) / n, 4),
        "routed_share": round(len(routed) / n, 4),
        "confidently_wrong_share": round(wrong / n, 4),
        "lead_accuracy_routed": round(1 - wrong / len(routed), 4) if routed else None,
        "emergency_flags": sum(p.emergency for _, p in scored),
        "none_rows": sum(1 for row, _ in scored if row.matter == NONE),
        "none_routed": sum(1 for row, p in routed if row.matter == NONE),
        "by_confidence": buckets,
    }


def write_predictions(path: str | Path, predictions: Sequence[Prediction]) -> None:
    """One CSV row per prediction, in order: matter,lead,confidence,routed,emergency (routed/emergency 0/1)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PREDICTION_COLUMNS)
        for p in predictions:
            writer.writerow([p.matter, p.lead, f"{p.confidence:.4f}", int(p.routed), int(p.emergency)])
