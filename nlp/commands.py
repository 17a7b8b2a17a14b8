"""Implementations of the ``gridbot catalogue check`` and ``gridbot nlp ...`` subcommands.

Each returns the process exit code. Expected failures (bad catalogue, bad CSV, missing model) print one clear
line to stderr and return 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from nlp.catalogue import DEFAULT_CATALOGUE, CatalogueError, check_catalogue, load_catalogue
from nlp.classifier import DEFAULT_THRESHOLD, Classifier
from nlp.data import TEXT_MODES, DataError, read_labelled_csv, read_records
from nlp.emergency import HOTLINES
from nlp.evaluation import matter_report, predict, read_matter_csv, write_predictions
from nlp.segment import init_jieba, normalise, tokens
from nlp.training import evaluate, save_model, train_model

EXIT_OK = 0
EXIT_ERROR = 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def cmd_catalogue_check(path: str | None) -> int:
    """Validate a catalogue; print its problems (one per line) or a summary."""
    target = Path(path) if path else DEFAULT_CATALOGUE
    problems = check_catalogue(target)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {target}", file=sys.stderr)
        return EXIT_ERROR
    catalogue = load_catalogue(target)
    matters = catalogue.matters.values()
    print(
        f"{target}: OK — {len(catalogue.matters)} matters in "
        f"{len({m.category1 for m in matters})} categories, {len(catalogue.departments)} departments, "
        f"{sum(m.emergency for m in matters)} emergencies, {sum(len(m.keywords) for m in matters)} keywords"
    )
    return EXIT_OK


def _classifier(model: str | None) -> Classifier:
    catalogue = load_catalogue()
    if model is not None and not Path(model).is_file():
        raise DataError(f"{model}: model file not found")
    try:
        return Classifier.load(catalogue, Path(model) if model else None)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def cmd_train(
    data: list[str], out: str, history: Iterable[tuple[str, str]] = (), text_mode: str = "title+detail"
) -> int:
    """Train on labelled CSVs (and dispatcher history) and write the model file."""
    if text_mode not in TEXT_MODES:
        return _fail(f"unknown text mode {text_mode!r}; use one of {', '.join(TEXT_MODES)}")
    try:
        catalogue = load_catalogue()
        rows = [row for path in data for row in read_labelled_csv(path)]
        model, examples = train_model(catalogue, rows, history, text_mode)
        out_path = Path(out)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, examples, out_path)
    except (DataError, CatalogueError) as exc:
        return _fail(str(exc).splitlines()[0])
    except OSError as exc:
        return _fail(f"{out}: cannot write: {exc.strerror}")
    size = out_path.stat().st_size
    print(
        f"trained on {model.meta['trained_on']} messages, {len(model.labels)} categories, "
        f"{len(model.vocab)} features, {len(examples)} matter examples -> {out} ({size / 1e6:.1f} MB)"
    )
    return EXIT_OK


def cmd_eval(model: str | None, data: str, text_mode: str = "title", predictions: str | None = None) -> int:
    """Print scores as JSON: matter-level if the CSV has a ``matter`` column, else category-level (``label``).

    Without a model: the keyword model alone (zero-shot). ``predictions``: also write one CSV row per input row,
    in order (:func:`nlp.evaluation.write_predictions`).
    """
    if text_mode not in TEXT_MODES:
        return _fail(f"unknown text mode {text_mode!r}; use one of {', '.join(TEXT_MODES)}")
    try:
        header, records = read_records(data, ("title",))
        classifier = _classifier(model)
        catalogue = classifier.catalogue
        if "matter" in header:
            rows = read_matter_csv(data, catalogue)
            predicted = [predict(classifier, r.title, r.detail, text_mode) for r in rows]
            result = matter_report(catalogue, rows, predicted)
        else:
            result = evaluate(classifier, catalogue, read_labelled_csv(data), text_mode).as_dict()
            predicted = (
                [predict(classifier, r["title"], r.get("detail", ""), text_mode) for r in records]
                if predictions else []
            )
        if predictions:
            write_predictions(predictions, predicted)
    except (DataError, CatalogueError) as exc:
        return _fail(str(exc).splitlines()[0])
    except OSError as exc:
        return _fail(f"{predictions}: cannot write: {exc.strerror}")
    level = "matter" if "matter" in header else "category"
    report = {"model": model or "keywords (zero-shot)", "data": data, "text": text_mode, "level": level, **result}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_classify(text: str, model: str | None) -> int:
    """Print the top matters of a message with confidence, lead department and the emergency flag."""
    try:
        classifier = _classifier(model)
    except (DataError, CatalogueError) as exc:
        return _fail(str(exc).splitlines()[0])
    result = classifier.classify(text)
    catalogue = classifier.catalogue
    # For whoever maintains the catalogue: how jieba (with the catalogue as user dictionary) cuts the message,
    # and which keywords the keyword model found in it.
    init_jieba(catalogue)
    normalised = normalise(text)
    print("words:   " + " / ".join(tokens(normalised)))
    print("keywords: " + ("、".join(classifier.keywords.matches(normalised)) or "-"))
    if result.emergency:
        hotlines = "/".join(HOTLINES[result.emergency_kind]) if result.emergency_kind else "110/119/120"
        print(f"EMERGENCY ({result.emergency_kind}): tell the resident to call {hotlines}; alert the command centre")
    if not result.candidates:
        print("nothing recognised: to the dispatcher")
    else:
        routed = "routed" if result.confident(DEFAULT_THRESHOLD) else "to the dispatcher"
        print(f"lead: {result.lead} ({result.lead_confidence:.3f}, {routed})")
    for candidate in result.candidates:
        matter = catalogue.matter(candidate.code)
        lead = catalogue.departments[matter.lead].name if matter.lead in catalogue.departments else matter.lead
        print(f"{candidate.confidence:.3f}  {matter.code:<8} {matter.name}  [{matter.category1}/{matter.category2}]  lead: {lead}")
    return EXIT_OK
