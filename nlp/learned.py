"""The learned model: TF-IDF over character n-grams, one-vs-rest linear SVM, pure numpy.

Why this design (measured in benchmarks/bench_nlp.py, see benchmarks/README.md):

* The loss is liblinear's default for LinearSVC (L2-regularised squared hinge, one-vs-rest), minimised in the
  primal with L-BFGS. Being smooth, it needs no sample loop, so numpy alone trains it in seconds and the bot
  needs neither scikit-learn nor scipy at run time.
* Inference works on integer n-gram keys (:func:`nlp.features.feature_keys`), not strings: one hash-table
  lookup of a title's ~60 keys, then a gather and a sum of precomputed rows; about ten numpy calls, where
  building and hashing ~50 n-gram strings for dict lookups cost several times more.
* The file is a compressed ``.npz`` of plain arrays (no pickles): the vocabulary as one UTF-8 string, idf,
  float16 weights, labels and metadata as JSON. Loading is ~0.1 s and needs no code execution.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.features import KeyTable, feature_keys, features, gram_keys

MODEL_FORMAT = "gridbot-nlp/1"
#: inverse regularisation, as LinearSVC's C (0.5 was best of 0.25/0.5/1 in cross-validation)
DEFAULT_C = 0.5
#: features seen in fewer documents are dropped: they are mostly noise, and halve the model file
DEFAULT_MIN_DF = 2


@dataclass(frozen=True)
class SparseRows:
    """Rows of L2-normalised TF-IDF vectors in coordinate form (row, column, value), rows sorted."""

    rows: np.ndarray  # int32 row index per non-zero
    cols: np.ndarray  # int32 feature index per non-zero
    vals: np.ndarray  # float64 value per non-zero
    n_rows: int


@dataclass
class LinearModel:
    """A one-vs-rest linear model over TF-IDF features; ``margins`` gives one margin per label."""

    labels: tuple[str, ...]
    vocab: dict[str, int] | None  # feature -> column; None for a loaded model until the string path needs it
    idf: np.ndarray  # float32 (D,)
    weights: np.ndarray  # float32 (D, K)
    bias: np.ndarray  # float32 (K,)
    meta: dict[str, Any] = field(default_factory=dict)
    # A loaded model's vocabulary as one "\n"-joined string, in column order. A dict of ~200k short strings
    # costs ~25 MB of the bot's memory and only the rare string path (texts with characters outside the fast
    # path) needs it, so it is built from this on first use.
    words: str | None = None
    # For margins: the keyable vocabulary's n-gram keys -> column, and per column the idf-scaled weights and
    # idf² (the feature's contribution to the squared norm), so that one gather and one sum do the arithmetic.
    _table: KeyTable = field(init=False, repr=False, compare=False)
    _scaled: np.ndarray = field(init=False, repr=False, compare=False)
    _bias: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.vocab is not None:
            keys, keyable = gram_keys(list(self.vocab))
            columns = np.fromiter(self.vocab.values(), dtype=np.intp, count=len(self.vocab))
        else:
            keys, keyable = gram_keys(self.words.split("\n"))
            columns = np.arange(len(keys), dtype=np.intp)
        self._table = KeyTable(keys[keyable], columns[keyable])
        idf = self.idf.astype(np.float32)
        self._scaled = np.empty((len(idf), len(self.labels) + 1), dtype=np.float32)  # filled in place: no copies
        np.multiply(idf[:, None], self.weights, out=self._scaled[:, :-1])
        np.multiply(idf, idf, out=self._scaled[:, -1])
        self._bias = self.bias.tolist()

    def scores(self, feats: Sequence[str]) -> np.ndarray:
        """SVM margins (K,) of one document's feature strings; about -1 means "not this label", +1 "this label".

        The definition of the model's output (training computes the same TF-IDF), and the path for texts that
        :func:`nlp.features.feature_keys` does not key; :meth:`margins` is the fast path.
        """
        idx, val = _tfidf(feats, self.vocabulary(), self.idf)
        if not len(idx):
            return self.bias.copy()
        return val @ self.weights[idx] + self.bias

    def margins(self, text: str) -> list[float]:
        """``scores(features(text)).tolist()`` for a normalised text, equal up to float32 rounding, but fast.

        Works on integer n-gram keys (:func:`nlp.features.feature_keys`): one hash-table lookup of all of them,
        then one gather and one sum; a text the keys cannot represent takes the string path. With
        ``x = (1 + log tf)·idf`` over the features found, the margins are ``x·W / |x| + b``. Summing the
        precomputed rows ``(idf·W, idf²)`` of every occurrence gives ``tf·idf·W`` and ``tf·idf²``, which is
        exact when every tf is 1; otherwise (about half of all titles, mostly for characters such as 的) the few
        repeated features are corrected to ``1 + log tf``. About a dozen numpy calls in all: at this size their
        number, not the arithmetic, is the cost.
        """
        keys = feature_keys(text)
        if keys is None:
            return self.scores(features(text)).tolist()
        columns = self._table.values(keys.ravel())
        if not len(columns):
            return list(self._bias)
        total = self._scaled.take(columns, axis=0).sum(axis=0).tolist()
        found = columns.tolist()
        if len(set(found)) < len(found):
            # In plain Python: a few dozen items, where each numpy call would cost more.
            tfs = [(column, tf) for column, tf in Counter(found).items() if tf > 1]
            rows = self._scaled.take([column for column, _ in tfs], axis=0).tolist()
            for (_, tf), row in zip(tfs, rows, strict=True):
                weight = 1.0 + math.log(tf)
                for i in range(len(row) - 1):
                    total[i] += (weight - tf) * row[i]
                total[-1] += (weight * weight - tf) * row[-1]
        scale = 1.0 / math.sqrt(total.pop())
        return [t * scale + b for t, b in zip(total, self._bias, strict=True)]

    def vocabulary(self) -> dict[str, int]:
        """Feature -> column (built on first use for a loaded model)."""
        if self.vocab is None:
            self.vocab = {word: i for i, word in enumerate(self.words.split("\n"))}
        return self.vocab

    def save(self, path: Path, extra: dict[str, np.ndarray] | None = None) -> None:
        """Write the model (and optional extra arrays) as a compressed npz."""
        words = list(self.vocabulary())
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh,
                format=np.frombuffer(MODEL_FORMAT.encode(), dtype=np.uint8),
                labels=_json_array(list(self.labels)),
                vocab=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
                idf=self.idf.astype(np.float32),
                weights=self.weights.astype(np.float16),
                bias=self.bias.astype(np.float32),
                meta=_json_array(self.meta),
                **(extra or {}),
            )

    @classmethod
    def load(cls, path: Path) -> tuple[LinearModel, dict[str, np.ndarray]]:
        """Read a model written by :meth:`save`; also return the extra arrays. ``ValueError`` if not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"{path}: not a GridBot model file ({exc})") from exc
        if "format" not in arrays or arrays.pop("format").tobytes().decode() != MODEL_FORMAT:
            raise ValueError(f"{path}: not a GridBot model file of format {MODEL_FORMAT}")
        model = cls(
            labels=tuple(_from_json_array(arrays.pop("labels"))),
            vocab=None,
            words=arrays.pop("vocab").tobytes().decode("utf-8"),
            idf=arrays.pop("idf"),
            # float16 as on disk: only the rare string path reads them; margins use the float32 _scaled copy
            weights=arrays.pop("weights"),
            bias=arrays.pop("bias"),
            meta=_from_json_array(arrays.pop("meta")),
        )
        return model, arrays


def _json_array(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _from_json_array(arr: np.ndarray) -> Any:
    return json.loads(arr.tobytes().decode("utf-8"))


def json_array(obj: Any) -> np.ndarray:
    """Any JSON-able object as a uint8 array, for storing alongside the model without pickles."""
    return _json_array(obj)


def from_json_array(arr: np.ndarray) -> Any:
    """Inverse of :func:`json_array`."""
    return _from_json_array(arr)


def _tfidf(feats: Sequence[str], vocab: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices and L2-normalised sublinear TF-IDF values of one document's known features.

    This runs once per message and is a good part of the model's cost, hence the fast path for tf = 1.
    """
    idx_list = [i for i in map(vocab.get, feats) if i is not None]
    if not idx_list:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    if len(set(idx_list)) == len(idx_list):  # the usual case for a short message: every tf is 1
        idx = np.array(idx_list, dtype=np.intp)
        val = idf[idx]
    else:  # a dict beats np.unique by far on a few dozen items
        counts: dict[int, int] = {}
        for i in idx_list:
            counts[i] = counts.get(i, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        val = (1.0 + np.log(tf)) * idf[idx]
    return idx, val / np.sqrt(val @ val)


def build_vocabulary(docs: Sequence[Sequence[str]], min_df: int = DEFAULT_MIN_DF) -> tuple[dict[str, int], np.ndarray]:
    """Vocabulary (features in ≥ ``min_df`` documents) and smoothed idf, as scikit-learn's TfidfVectorizer."""
    df: Counter[str] = Counter()
    for feats in docs:
        df.update(set(feats))
    kept = sorted(f for f, n in df.items() if n >= min_df and "\n" not in f)
    n_docs = len(docs)
    vocab = {f: i for i, f in enumerate(kept)}
    idf = np.array([math.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in kept], dtype=np.float32)
    return vocab, idf


def vectorise(docs: Sequence[Sequence[str]], vocab: dict[str, int], idf: np.ndarray) -> SparseRows:
    """Stack the TF-IDF vectors of many documents."""
    rows, cols, vals = [], [], []
    for r, feats in enumerate(docs):
        idx, val = _tfidf(feats, vocab, idf)
        rows.append(np.full(len(idx), r, dtype=np.int32))
        cols.append(idx.astype(np.int32))
        vals.append(val.astype(np.float64))
    return SparseRows(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), len(docs))


def _lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, max_iter: int, tol: float, memory: int = 10
) -> np.ndarray:
    """Minimise a smooth convex function: limited-memory BFGS with a backtracking (Armijo) line search."""
    f, g = fun(x)
    g0 = float(np.linalg.norm(g))
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        if float(np.linalg.norm(g)) <= tol * g0:
            break
        # two-loop recursion: d = -H g
        q = g.copy()
        alphas = []
        for s, y in zip(reversed(s_hist), reversed(y_hist), strict=True):
            a = (s @ q) / (y @ s)
            alphas.append(a)
            q -= a * y
        if s_hist:
            q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
        for (s, y), a in zip(zip(s_hist, y_hist, strict=True), reversed(alphas), strict=True):
            q += s * (a - (y @ q) / (y @ s))
        d = -q
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            d, slope = -g, -float(g @ g)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = x_new - x, g_new - g
        if s @ y > 1e-12:
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        x, f, g = x_new, f_new, g_new
    return x


def _segments(sorted_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and ids of the runs of equal values in a sorted id array."""
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    return starts, sorted_ids[starts]


def train_svm(
    X: SparseRows, y: np.ndarray, n_labels: int, n_features: int, C: float = DEFAULT_C, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest L2-regularised squared-hinge SVM (LinearSVC's primal, intercept regularised like liblinear).

    Returns ``(weights (D, K), bias (K,))``. ``y`` holds label indices.
    """
    K, D = n_labels, n_features
    # float32 throughout: the optimisation is memory-bound, and 1e-3 relative gradient tolerance is far above
    # float32 rounding.
    target = -np.ones((X.n_rows, K), dtype=np.float32)
    target[np.arange(X.n_rows), y] = 1.0
    # Segmented sums (np.add.reduceat) over a row-sorted and a column-sorted copy of the non-zeros do X @ W and
    # X.T @ G in one vectorised pass each; every column occurs (the vocabulary comes from these rows), rows may
    # be empty (a message with no known feature) and are skipped.
    row_starts, row_ids = _segments(X.rows)
    by_col = np.argsort(X.cols, kind="stable")
    col_rows, col_vals = X.rows[by_col], X.vals[by_col, None].astype(np.float32)
    col_starts, col_ids = _segments(X.cols[by_col])
    row_vals = X.vals[:, None].astype(np.float32)

    def matvec(W: np.ndarray) -> np.ndarray:
        out = np.zeros((X.n_rows, K), dtype=np.float32)
        out[row_ids] = np.add.reduceat(W[X.cols] * row_vals, row_starts, axis=0)
        return out

    def rmatvec(G: np.ndarray) -> np.ndarray:
        out = np.zeros((D, K), dtype=np.float32)
        out[col_ids] = np.add.reduceat(G[col_rows] * col_vals, col_starts, axis=0)
        return out

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[: D * K].reshape(D, K), theta[D * K :]
        margin = np.maximum(0.0, 1.0 - target * (matvec(W) + b))
        loss = 0.5 * float(theta @ theta) + C * float((margin * margin).sum(dtype=np.float64))
        G = -2.0 * C * target * margin
        return loss, np.concatenate([(W + rmatvec(G)).ravel(), b + G.sum(axis=0)])

    theta = _lbfgs(objective, np.zeros(D * K + K, dtype=np.float32), max_iter=max_iter, tol=1e-3)
    return theta[: D * K].reshape(D, K).copy(), theta[D * K :].copy()


def train_linear(
    docs: Sequence[Sequence[str]],
    labels: Sequence[str],
    C: float = DEFAULT_C,
    min_df: int = DEFAULT_MIN_DF,
    meta: dict[str, Any] | None = None,
) -> LinearModel:
    """Fit vocabulary, idf and the SVM on feature lists with their labels."""
    if not docs:
        raise ValueError("no training documents")
    label_set = tuple(sorted(set(labels)))
    if len(label_set) < 2:
        raise ValueError(f"need at least two distinct labels, got {list(label_set)}")
    index = {label: i for i, label in enumerate(label_set)}
    vocab, idf = build_vocabulary(docs, min_df=min_df)
    if not vocab:
        raise ValueError("no feature occurs in enough documents to learn from")
    X = vectorise(docs, vocab, idf)
    y = np.array([index[label] for label in labels])
    weights, bias = train_svm(X, y, len(label_set), len(vocab), C=C)
    return LinearModel(labels=label_set, vocab=vocab, idf=idf, weights=weights, bias=bias, meta=dict(meta or {}))
