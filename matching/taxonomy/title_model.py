"""The trained stage of title normalisation: a linear classifier over title n-grams.

Why a trained model: titles the label index has never seen are mostly new compounds and
qualifiers of known parts ("lagerkontrollør", "Driftsleder (skiheis)"). A linear SVM over
character n-grams (2-5, inside words) and stemmed words learns which parts decide the code
(the compound's head, "-lege", "-operatør") instead of weighing every shared n-gram alike as
naive Bayes does: +5 points top-1 on unseen NAV titles (validation split, see
``benchmarks/bench_normalisation.py``).

Training takes minutes on two cores, so the model is trained offline
(``python tools/build_title_model.py``) and shipped as ``models/title_classifier.joblib``
with a JSON card (sources and their sha256, parameters, measured accuracy). The weights are
pruned to a sparse matrix (|w| below ``PRUNE`` dropped), which keeps the artifact small and
loading well under a second without measurable loss of accuracy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.taxonomy._title_text import stem, surface, tokens

log = logging.getLogger(__name__)

#: Where the shipped model lives; ``MATCHING_TITLE_MODEL`` points elsewhere (tests, experiments).
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "models" / "title_classifier.joblib"
#: Weights with smaller magnitude are dropped from the shipped matrix.
PRUNE = 0.02
#: Training weight per label source: NAV's own titles are the domain the model serves.
SOURCE_WEIGHT = {
    "nav_title": 3.0,
    "styrk": 2.0,
    "nav_styrk": 2.0,
    "esco_preferred": 1.0,
    "esco_alt": 1.0,
    "jobbert": 1.0,
    "sv": 1.0,
    "esco_no_preferred": 2.0,
    "esco_no_alt": 1.5,
    "utdanning": 2.0,
}
#: Version of the feature recipe; a model with another version is rebuilt, not trusted.
FEATURES_VERSION = 3


def word_features(text: str) -> list[str]:
    """Stemmed words, word pairs, the last word, and the words in parentheses as context.

    The qualifier of a NAV title ("Avdelingsleder (distribusjon)") often decides the code,
    but it is context, not the occupation, so it gets its own features ("c:distribusjon").
    English titles are phrases whose last word is the head and whose pairs carry the meaning
    single words do not ("sales manager" vs "sales assistant"): pairs ("b:sal_manag") and the
    last word ("l:manag") gave +2.6 points top-1 on unseen English ad titles and no change on
    Norwegian ones (benchmark validation and test splits). Compound heads and modifiers are
    added by :class:`CompoundWords` (split against Norsk Ordbank lemmas): +2.6 points top-1 on
    unseen NAV titles (validation split, issue 15); an earlier split against the label words
    alone had cost 1-2 points.
    """
    main, _, rest = text.partition("(")
    words = tokens(main)
    out = list(words)
    out += ["b:" + a + "_" + b for a, b in zip(words, words[1:])]
    if words:
        out.append("l:" + words[-1])
    if rest:
        out += ["c:" + t for t in tokens(rest.replace(")", " "))]
    return out


@lru_cache(maxsize=1)
def _lemmas() -> frozenset[str]:
    """Norsk Ordbank bokmål lemmas (``reference/ordbank_lemmas_nb.txt``)."""
    from matching.taxonomy._files import reference_path

    return frozenset(reference_path("ordbank_lemmas_nb.txt").read_text(encoding="utf-8").split())


def lemmas() -> frozenset[str]:
    """Norsk Ordbank bokmål lemmas (cached): the words a compound is split into."""
    return _lemmas()


_LINKS = ("s", "e", "")
_MIN_PART = 3


def split_compound(word: str, heads: frozenset[str]) -> tuple[str, str] | None:
    """(modifier, head) of a Norwegian compound: "lagermedarbeider" → ("lager", "medarbeider").

    The head is the longest proper suffix that is a known occupation word (``heads``: words
    of the training labels) or an Ordbank lemma; the modifier is the rest, which must be a
    lemma or label word once a linking -s- or -e- is dropped ("avdelings|leder",
    "barne|lege"). ``None`` when no such split exists.
    """
    lemmas = _lemmas()
    n = len(word)
    for i in range(_MIN_PART, n - _MIN_PART + 1):
        head = word[i:]
        if head not in heads and head not in lemmas:
            continue
        left = word[:i]
        for link in _LINKS:
            if link and not left.endswith(link):
                continue
            mod = left[: len(left) - len(link)]
            if len(mod) >= 2 and (mod in lemmas or mod in heads):
                return mod, head
    return None


class CompoundWords:
    """Word features plus each compound's head and modifier ("h:medarbeider", "m:lager").

    A callable class (not a closure) so the fitted vectoriser pickles; ``heads`` is the set
    of whole words in the training titles, which names occupation heads Ordbank lacks
    ("utvikler").
    """

    def __init__(self, heads: frozenset[str]) -> None:
        self.heads = heads

    def __call__(self, text: str) -> list[str]:
        out = word_features(text)
        main = text.partition("(")[0]
        for w in surface(main).split():
            if len(w) < 2 * _MIN_PART:
                continue
            parts = split_compound(w, self.heads)
            if parts is not None:
                out += ["m:" + parts[0], "h:" + stem(parts[1])]
        return out


def title_model_path() -> Path:
    return Path(os.environ.get("MATCHING_TITLE_MODEL", DEFAULT_PATH))


@dataclass
class TitleClassifier:
    """Linear one-vs-rest SVM over char n-gram + word TF-IDF of a title.

    ``decision`` gives one margin per code; ``probabilities`` turns margins into a
    distribution with a softmax of sharpness ``beta``, chosen (like ``C``) on the benchmark's
    validation split: margins on training labels are overconfident, so it cannot be fitted
    on them.
    """

    C: float = 0.5
    ngram_range: tuple[int, int] = (2, 5)
    prune: float = PRUNE
    beta: float = 8.0
    compounds: bool = True
    codes_: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]  # set by fit

    def fit(self, texts: list[str], codes: list[str], weights: np.ndarray) -> TitleClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, sublinear_tf=True, lowercase=False, dtype=np.float32)
        analyzer = word_features
        if self.compounds:
            analyzer = CompoundWords(frozenset(w for t in texts for w in surface(t).split()))
        self.word_ = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32)
        x = self._join(self.char_.fit_transform([surface(t) for t in texts]), self.word_.fit_transform(texts))
        self.grams_ = frozenset(g for g in self.char_.vocabulary_ if len(g) == 4)
        codes_arr = np.asarray(codes, dtype=str)
        if len(set(codes_arr)) < 2:
            raise ValueError("a title classifier needs labels of at least two codes")
        svm = LinearSVC(C=self.C, random_state=0).fit(x, codes_arr, sample_weight=weights)
        self.codes_ = np.asarray(svm.classes_, dtype=str)
        coef = svm.coef_.T.astype(np.float32)
        if coef.shape[1] == 1:  # binary: sklearn keeps one column, scoring needs one per code
            coef = np.hstack([-coef, coef])
            intercept = np.array([-svm.intercept_[0], svm.intercept_[0]])
        else:
            intercept = svm.intercept_
        coef[np.abs(coef) < self.prune] = 0.0
        self.coef_ = sp.csr_matrix(coef)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        return self

    @staticmethod
    def _join(a: sp.spmatrix, b: sp.spmatrix) -> sp.csr_matrix:
        from sklearn.preprocessing import normalize

        return normalize(sp.hstack([a, b]).tocsr())

    def _features(self, texts: list[str]) -> sp.csr_matrix:
        # scikit-learn's per-call input and parameter checks cost more than the transform of
        # a few short titles (typeahead: about half of a query's time); the inputs are ours.
        from sklearn import config_context

        with config_context(assume_finite=True, skip_parameter_validation=True):
            return self._join(self.char_.transform([surface(t) for t in texts]), self.word_.transform(texts))

    def _margins(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray((x @ self.coef_).todense(), dtype=np.float32) + self.intercept_

    def decision(self, texts: list[str]) -> np.ndarray:
        """Margins, shape ``(len(texts), len(codes_))``."""
        return self._margins(self._features(texts))

    def probabilities(self, texts: list[str]) -> np.ndarray:
        z = self.beta * self.decision(texts)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def known_share(self, text: str, n: int = 4) -> float:
        """Share of the title's character 4-grams (word-padded) seen in training.

        Real titles, even unseen ones, are made of known word parts (≈100 %); keyboard noise
        is not (median ≈ 10 %): a cheap garbage detector that the margins alone are not.
        """
        grams = []
        for w in surface(text).split():
            w = f" {w} "
            grams += [w[i : i + n] for i in range(max(1, len(w) - n + 1))]
        return sum(g in self.grams_ for g in grams) / len(grams) if grams else 0.0


def training_frame(labels: pd.DataFrame, source_weight: dict[str, float] | None = None) -> pd.DataFrame:
    """Label table → ``text, code, weight`` rows the classifier is fitted on.

    Identical (folded text, code) rows are merged with summed weight; "0000"
    (unidentifiable) is left out: it must come from an exact label, never from a guess.
    """
    df = labels[labels["code"] != "0000"]
    weights = {**SOURCE_WEIGHT, **(source_weight or {})}
    weight = df["source"].map(weights).fillna(1.0) if "source" in df else 1.0
    df = df.assign(key=[surface(t) for t in df["label"].tolist()], w=weight)
    df = df[df["key"] != ""]
    return df.groupby(["key", "code"], as_index=False, sort=True).agg(text=("label", "first"), weight=("w", "sum"))[
        ["text", "code", "weight"]
    ]


def train(labels: pd.DataFrame, source_weight: dict[str, float] | None = None, **params: Any) -> TitleClassifier:
    """Fit a classifier on a label table (``label, code`` and optional ``source``)."""
    df = training_frame(labels, source_weight)
    t0 = time.perf_counter()
    model = TitleClassifier(**params).fit(df["text"].tolist(), df["code"].tolist(), df["weight"].to_numpy(np.float64))
    log.info("title classifier: %d rows, %d codes, %.0f s", len(df), len(model.codes_), time.perf_counter() - t0)
    return model


def frame_sha256(labels: pd.DataFrame) -> str:
    """Fingerprint of the training table, recorded in the card and checked on load."""
    cols = [c for c in ("label", "code", "source") if c in labels]
    data = labels[cols].to_csv(index=False).encode()
    return hashlib.sha256(data).hexdigest()


def save(model: TitleClassifier, path: Path, card: dict) -> None:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump({"features_version": FEATURES_VERSION, "model": model}, tmp, compress=3)
    os.replace(tmp, path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")


def load(path: Path, expected_sha256: str | None = None) -> TitleClassifier | None:
    """The shipped model, or ``None`` when missing, stale or built from other labels."""
    import joblib

    if not path.exists():
        return None
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    if expected_sha256 is not None and card.get("training_sha256") != expected_sha256:
        log.warning("title model %s was trained on other labels; not used", path)
        return None
    blob = joblib.load(path)
    if blob.get("features_version") != FEATURES_VERSION:
        log.warning("title model %s has an old feature version; not used", path)
        return None
    return blob["model"]
