"""Text normalisation and jieba word segmentation, initialised once per process.

jieba's dictionary load is the most expensive step of start-up, so it happens once (:func:`init_jieba` is
idempotent and thread-safe) and never per message. The catalogue's keywords are added as a user dictionary so
that residents' phrases such as "私搭乱建" or "暖气不热" stay single tokens for the learned model.

GridBot uses its own ``jieba.Tokenizer`` (other code using the global ``jieba`` is unaffected) over jieba's
dictionary pruned to words of frequency ≥ :data:`MIN_WORD_FREQ` (137k of 349k words). The full dictionary
takes ~1.4 s to load and ~70 MB of memory, the pruned one about 40 % of both; the rare words dropped are
covered by the learned model's character n-grams. The pruned file is derived from the installed jieba once and
cached (jieba then caches its own parsed form).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.catalogue import Catalogue

if TYPE_CHECKING:
    import jieba

MIN_WORD_FREQ = 5

_lock = threading.Lock()
_ready = False
_tokenizer: jieba.Tokenizer | None = None
# Keyword sets already added, so that re-initialising with the same catalogue is free.
_loaded: set[frozenset[str]] = set()


def normalise(text: str) -> str:
    """NFKC (full-width digits/letters/punctuation to half-width) and lower case, stripped.

    Residents type "１１０", "ＡＰＰ" and "App" alike; the keyword model and the learned features both see
    the same normalised form.
    """
    return unicodedata.normalize("NFKC", text).lower().strip()


def user_dictionary(catalogue: Catalogue) -> str:
    """The catalogue's keywords as a jieba user dictionary (one word a line, jieba suggests the frequency)."""
    words = sorted({word for matter in catalogue.matters.values() for word in matter.keywords})
    # Words with spaces cannot be expressed in jieba's line format; the keyword model still matches them.
    return "".join(f"{word}\n" for word in words if " " not in word)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "gridbot"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home (containers): the temp dir will do, it is only a cache
        directory = Path(tempfile.gettempdir())
    return directory


def pruned_dictionary() -> Path:
    """jieba's dictionary without words rarer than MIN_WORD_FREQ; written once next to other caches."""
    import jieba  # here, not at module level: the bot imports normalise() and never needs jieba's ~40 MB

    source = Path(jieba.__file__).resolve().parent / "dict.txt"
    target = _cache_dir() / f"jieba-dict-min{MIN_WORD_FREQ}-{source.stat().st_size}.txt"
    if not target.exists():
        with open(source, encoding="utf-8") as fh:
            kept = [line for line in fh if int(line.split(" ", 2)[1]) >= MIN_WORD_FREQ]
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text("".join(kept), encoding="utf-8")
        partial.replace(target)  # atomic: concurrent first starts never see half a file
    return target


def init_jieba(catalogue: Catalogue | None = None) -> None:
    """Load the dictionary once per process, and the catalogue's user dictionary once per catalogue."""
    global _ready, _tokenizer
    with _lock:
        if not _ready:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            _tokenizer = jieba.Tokenizer(str(pruned_dictionary()))
            _tokenizer.initialize()
            _ready = True
        if catalogue is not None and _tokenizer is not None:
            words = frozenset(w for m in catalogue.matters.values() for w in m.keywords)
            if words not in _loaded:
                _tokenizer.load_userdict(io.StringIO(user_dictionary(catalogue)))
                _loaded.add(words)


def tokens(text: str) -> list[str]:
    """Words of an already normalised text, whitespace dropped.

    HMM-based discovery of unknown words is off: it costs a third of the segmentation time, and the learned
    model sees character n-grams anyway, which cover the words the dictionary does not know.
    """
    if _tokenizer is None:
        init_jieba()
    assert _tokenizer is not None
    return [word for word in _tokenizer.lcut(text, HMM=False) if not word.isspace()]
