"""Benchmark of the GridBot classifier on govmsg-format data against jieba + TF-IDF + LinearSVC.

    .venv/bin/python benchmarks/bench_nlp.py --data /work/shared/data/govmsg [--folds 5] [--jobs 2]

Prints a table and a JSON report: baseline vs ours macro-F1 (titles / title+detail, k-fold CV on the same
stratified folds), zero-shot keyword macro-F1 on titles, classification speed vs bare jieba.lcut, model size,
start-up time and resident memory (measured in fresh subprocesses), and the calibration of the confidence.
Needs scikit-learn for the baseline only (the ``bench`` extra); the classifier itself does not.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.catalogue import load_catalogue  # noqa: E402
from nlp.classifier import DEFAULT_THRESHOLD, Classifier, fit_calibration  # noqa: E402
from nlp.data import DETAIL_CHARS, Labelled, read_labelled_csv  # noqa: E402
from nlp.segment import normalise  # noqa: E402
from nlp.training import category_labels, evaluate, save_model, scores, train_model  # noqa: E402

MODES = ("title", "title+detail")
SEED = 20240601


def stratified_folds(labels: list[str], k: int, seed: int = SEED) -> list[np.ndarray]:
    """Test indices of k stratified folds (deterministic)."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        for j, i in enumerate(members):
            folds[(j + offset) % k].append(i)
        offset += len(members)
    return [np.array(sorted(f)) for f in folds]


def baseline_predict(train: list[Labelled], test: list[Labelled], mode: str) -> list[str]:
    """jieba (default) + TF-IDF word 1-2-grams + LinearSVC, the reference of the issue; full detail text."""
    import logging

    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer

    jieba.setLogLevel(logging.WARNING)
    from sklearn.svm import LinearSVC

    def text(r: Labelled) -> str:
        return r.title if mode == "title" else f"{r.title}\n{r.detail}"

    vec = TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    X = vec.fit_transform([text(r) for r in train])
    clf = LinearSVC().fit(X, [r.label for r in train])
    return list(clf.predict(vec.transform([text(r) for r in test])))


def run_fold(job: tuple[list[Labelled], np.ndarray, str]) -> dict[str, object]:
    """Baseline and ours on one fold and text mode; ours also returns raw components for calibration."""
    rows, test_idx, mode = job
    catalogue = load_catalogue()
    test_set = set(test_idx.tolist())
    train = [r for i, r in enumerate(rows) if i not in test_set]
    test = [rows[i] for i in test_idx]
    started = time.perf_counter()
    base = baseline_predict(train, test, mode)
    base_time = time.perf_counter() - started
    started = time.perf_counter()
    model, examples = train_model(catalogue, train, (), mode)
    train_time = time.perf_counter() - started
    classifier = Classifier(catalogue, model)
    ours, svm, evidence, confidence, top_category = [], [], [], [], []
    for r in test:
        detail = normalise(r.detail)[:DETAIL_CHARS] if mode == "title+detail" else ""
        comp = classifier.components(normalise(r.title), detail)
        p_category = classifier.category_probabilities(comp)
        ours.append(classifier.categories[int(np.argmax(p_category))])
        best, position = classifier.ranked_matters(comp)[0]
        confidence.append(best)
        top_category.append(catalogue.matter(classifier.codes[position]).category1)
        svm.append(comp.svm)
        evidence.append(comp.category_evidence)
    return {
        "mode": mode, "test_idx": test_idx, "baseline": base, "ours": ours, "svm": np.array(svm),
        "evidence": np.array(evidence), "confidence": confidence, "top_category": top_category,
        "train_seconds": train_time, "baseline_seconds": base_time, "categories": classifier.categories,
    }


def speed(rows: list[Labelled], model_path: Path) -> dict[str, float]:
    """Titles per second: bare jieba.lcut vs our classify (keyword + learned), same titles, single core."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)

    catalogue = load_catalogue()
    classifier = Classifier.load(catalogue, model_path)
    keywords_only = Classifier.load(catalogue)
    titles = [r.title for r in rows][:2000]
    contenders = {
        "jieba_lcut": jieba.lcut, "classify": classifier.classify, "classify_keywords_only": keywords_only.classify
    }
    for text in titles[:200]:  # warm caches of all
        for fn in contenders.values():
            fn(text)
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(5):  # interleaved, best of five: the machine is shared, load drifts between passes
        for name, fn in contenders.items():
            started = time.perf_counter()
            for text in titles:
                fn(text)
            best[name] = max(best[name], len(titles) / (time.perf_counter() - started))
    result = dict(best)
    result["ratio"] = result["classify"] / result["jieba_lcut"]
    result["ratio_keywords_only"] = result["classify_keywords_only"] / result["jieba_lcut"]
    return result


_STARTUP = """
import time, sys
t0 = time.perf_counter()
from pathlib import Path
from nlp.catalogue import load_catalogue
from nlp.classifier import Classifier
c = Classifier.load(load_catalogue(), Path(sys.argv[1]))
t1 = time.perf_counter()
c.classify("小区门口的路灯坏了好几天了")
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) benchmark parent
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(t1 - t0, int(hwm) / 1024)
"""


def startup(model_path: Path, repeats: int = 3) -> dict[str, float]:
    """Import + catalogue + model load in a fresh interpreter (best of a few), and its peak RSS in MB."""
    times, rss = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _STARTUP, str(model_path)], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(time.perf_counter() - started)
        rss.append(float(out[1]))
        inner = float(out[0])
    return {"startup_seconds_process": min(times), "startup_seconds_in_process": inner, "rss_mb": max(rss)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train.csv (govmsg format)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="parallel fold workers (speed is measured alone)")
    args = parser.parse_args()

    rows = read_labelled_csv(Path(args.data) / "train.csv")
    catalogue = load_catalogue()
    gold = category_labels(catalogue, [r.label for r in rows])
    folds = stratified_folds(gold, args.folds)
    jobs = [(rows, idx, mode) for mode in MODES for idx in folds]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(run_fold, jobs, chunksize=1)
    cv_seconds = time.perf_counter() - started

    report: dict[str, object] = {"folds": args.folds, "n": len(rows), "cv_seconds": round(cv_seconds, 1)}
    for mode in MODES:
        parts = [r for r in results if r["mode"] == mode]
        idx = np.concatenate([p["test_idx"] for p in parts])
        g = [gold[i] for i in idx]
        base = [x for p in parts for x in p["baseline"]]
        ours = [x for p in parts for x in p["ours"]]
        per_fold_base = [scores([gold[i] for i in p["test_idx"]], p["baseline"])[0] for p in parts]
        per_fold_ours = [scores([gold[i] for i in p["test_idx"]], p["ours"])[0] for p in parts]
        b_macro, b_acc, _ = scores(g, base)
        o_macro, o_acc, o_per = scores(g, ours)
        # calibration: refit the two scales on all out-of-fold components (reported, to set the defaults)
        categories = parts[0]["categories"]
        gold_idx = np.array([categories.index(x) for x in g])
        a, b, loss = fit_calibration(
            np.vstack([p["svm"] for p in parts]), np.vstack([p["evidence"] for p in parts]), gold_idx
        )
        confidence = np.array([c for p in parts for c in p["confidence"]])
        top_ok = np.array([t == x for t, x in zip([t for p in parts for t in p["top_category"]], g, strict=True)])
        routed = confidence >= DEFAULT_THRESHOLD
        report[mode] = {
            "baseline_macro_f1": round(b_macro, 4), "baseline_accuracy": round(b_acc, 4),
            "ours_macro_f1": round(o_macro, 4), "ours_accuracy": round(o_acc, 4),
            "delta_macro_f1": round(o_macro - b_macro, 4),
            "baseline_macro_f1_per_fold": [round(x, 4) for x in per_fold_base],
            "ours_macro_f1_per_fold": [round(x, 4) for x in per_fold_ours],
            "ours_per_class_f1": {k: round(v, 4) for k, v in o_per.items()},
            "train_seconds_per_fold": round(float(np.mean([p["train_seconds"] for p in parts])), 1),
            "calibration_fit": {"svm_scale": a, "keyword_scale": b, "log_loss": round(loss, 4)},
            f"auto_routed_share_at_{DEFAULT_THRESHOLD}": round(float(routed.mean()), 4),
            f"auto_routed_category_accuracy_at_{DEFAULT_THRESHOLD}": round(float(top_ok[routed].mean()), 4),
        }

    zero_shot = evaluate(Classifier.load(catalogue), catalogue, rows, "title")
    report["zero_shot_keywords_title"] = zero_shot.as_dict()

    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "model.npz"
        model, examples = train_model(catalogue, rows, (), "title+detail")
        save_model(model, examples, model_path)
        report["model_bytes"] = model_path.stat().st_size
        report["speed_titles"] = {k: round(v, 3) for k, v in speed(rows, model_path).items()}
        report.update({k: round(v, 3) for k, v in startup(model_path).items()})

    print(f"{'':28}{'baseline':>10}{'ours':>10}{'delta':>10}")
    for mode in MODES:
        m = report[mode]
        print(f"{'macro-F1 ' + mode:28}{m['baseline_macro_f1']:>10.4f}{m['ours_macro_f1']:>10.4f}"
              f"{m['delta_macro_f1']:>+10.4f}")
    print(f"{'zero-shot keywords (title)':28}{'':>10}{zero_shot.macro_f1:>10.4f}")
    s = report["speed_titles"]
    print(f"speed: classify {s['classify']:.0f} msg/s vs jieba.lcut {s['jieba_lcut']:.0f} msg/s "
          f"(ratio {s['ratio']:.2f}; keywords only {s['ratio_keywords_only']:.2f}); model {report['model_bytes'] / 1e6:.1f} MB; start-up "
          f"{report['startup_seconds_process']:.2f} s; RSS {report['rss_mb']:.0f} MB")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
