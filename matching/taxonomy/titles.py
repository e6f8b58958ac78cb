"""Free-text occupation titles → STYRK-08 unit groups (4-digit codes).

Participants and openings arrive with titles typed by people ("butikkmedarbeider",
"Sykepleiere", "lagerassistent", "warehouse worker"); every criterion downstream works on
STYRK-08 codes. The normaliser is a label index over public reference lists (STYRK-08 names,
NAV's short titles, NAV's observed job-seeker titles, ESCO English labels; see
``reference/SOURCES.md``) queried in three stages, cheapest first:

1. **exact** – the title's order-free, stemmed key (:mod:`._title_text`) names a label
   (score 100); or does so after swapping a synonymous head noun or gluing a two-word title
   into a compound (``REWRITE_SCORE``); or names a label once its parenthetical qualifier is
   dropped (``BASE_SCORE``).
2. **fuzzy** – the key is within a few edits of a label's key (rapidfuzz ``ratio`` ≥
   ``FUZZY_CUTOFF``): typos and odd inflections take that label's code.
3. **tfidf** – a naive Bayes classifier over character n-gram TF-IDF (``char_wb``, 2-4) of
   all labels; handles unseen compounds ("lagerkontrollør") by their known parts.

A title whose score is below ``min_score`` gets ``None``: a wrong code misleads silently, a
missing one prompts the adviser. Titles that several codes share go to the code with the most
evidence (for NAV titles: the number of years NAV observed the title under the code).
Accuracy and speed are measured in ``benchmarks/bench_normalisation.py``.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.taxonomy import occupations
from matching.taxonomy._files import reference_path
from matching.taxonomy._ngrams import CharNgramTfidf
from matching.taxonomy._title_text import exact_key, surface, variants

log = logging.getLogger(__name__)

#: Score of a rewrite hit (synonymous head noun / glued compound): sure, but not verbatim.
REWRITE_SCORE = 95.0
#: Score of a title that matches labels only once their qualifier is dropped ("Fagsjef" ←
#: "Fagsjef (avis)"): a generic title, the code is the best-evidenced of several.
BASE_SCORE = 90.0
#: Default acceptance threshold on the 0-100 combined score, see :class:`TitleNormaliser`.
MIN_SCORE = 45.0
#: rapidfuzz ratio from which a title is taken as a misspelling of a known label.
FUZZY_CUTOFF = 90.0
#: The "unidentifiable" code; only an exact label can produce it, never a near neighbour.
UNKNOWN_CODE = "0000"

# Evidence weight per source, used only to break ties between codes sharing a label.
_SOURCE_WEIGHT = {"styrk": 2.0, "nav_styrk": 2.0, "esco_preferred": 1.0, "esco_alt": 0.5}
_SPLIT_NAME = re.compile(r",\s*|\s+og\s+|\s*/\s*")


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """A title's STYRK-08 unit group and how sure we are.

    Attributes
    ----------
    code : 4-digit STYRK-08 code, always valid per :func:`occupations.is_valid_code`.
    label : the code's official (SSB) name, for display.
    score : 0-100 confidence: 100 exact label, ``REWRITE_SCORE`` rewritten, ``BASE_SCORE``
        qualifier dropped, rapidfuzz ratio for fuzzy, a similarity blend for tfidf.
    method : ``"exact"``, ``"fuzzy"`` or ``"tfidf"`` (see module docstring).
    matched : the reference label that decided the match (for audit and debugging).
    """

    code: str
    label: str
    score: float
    method: str
    matched: str = ""


def _name_parts(name: str) -> list[str]:
    """A STYRK name and its listed occupations: "Slaktere, fiskehandlere mv." → 3 labels.

    Fragments ending in an elision hyphen ("Kopper-") are not titles on their own.
    """
    parts = [p.strip() for p in _SPLIT_NAME.split(name)]
    return [name] + [p for p in parts if p and not p.endswith("-") and p != name]


@lru_cache(maxsize=1)
def reference_labels(include_english: bool = True) -> pd.DataFrame:
    """The default label table: ``label, code, weight, source`` from ``matching/reference``.

    NAV's observed job-seeker titles carry the number of years they were observed as weight,
    so an ambiguous title ("Prosjektingeniør") goes to the code NAV used most. ESCO hidden
    labels count as ``esco_alt``. The frame is cached and shared: filter it, never mutate it.
    """
    frames = []
    styrk = pd.Series(occupations.unit_groups())
    nav = pd.read_csv(reference_path("nav_styrk_titles.csv"), dtype=str, keep_default_na=False)
    for source, names in (("styrk", styrk.items()), ("nav_styrk", zip(nav["code"], nav["title"]))):
        rows = [(part, code) for code, nm in names for part in _name_parts(nm)]
        frames.append(pd.DataFrame(rows, columns=["label", "code"]).assign(
            weight=_SOURCE_WEIGHT[source], source=source))
    titles = pd.read_csv(reference_path("nav_job_titles.csv"), dtype=str, keep_default_na=False)
    frames.append(pd.DataFrame({
        "label": titles["title"], "code": titles["code"],
        "weight": titles["years_observed"].str.count(r"\|").add(1).astype(float),
        "source": "nav_title",
    }))
    if include_english:
        esco = pd.read_csv(reference_path("esco_occupation_labels_en.csv"), dtype=str,
                           keep_default_na=False)
        source = np.where(esco["label_type"] == "preferred", "esco_preferred", "esco_alt")
        frames.append(pd.DataFrame({
            "label": esco["label"], "code": esco["code"],
            "weight": pd.Series(source).map(_SOURCE_WEIGHT).to_numpy(), "source": source,
        }))
    return pd.concat(frames, ignore_index=True)


class TitleNormaliser:
    """Label index plus the exact → fuzzy → TF-IDF stages; build once, query many times.

    Parameters
    ----------
    labels : frame with columns ``label`` and ``code`` (4-digit STYRK-08) and optionally
        ``weight`` (evidence for ambiguous labels, default 1). Invalid codes are dropped.
    min_score : titles scoring below it (0-100) normalise to ``None``. Only the TF-IDF stage can
        score that low (exact ≥ 90, fuzzy ≥ ``fuzzy_cutoff``). The default, 45, was set on
        held-out data: it gives a code to ~1 % of random letter strings and rejects ~1-2 % of
        unseen real NAV titles, mostly ones the classifier would have got wrong anyway.
    fuzzy_cutoff : rapidfuzz ``ratio`` (0-100) from which a title counts as a misspelling of a
        known label and takes that label's code; above 100 disables the fuzzy stage.
    alpha : additive smoothing of the n-gram classifier.
    """

    def __init__(self, labels: pd.DataFrame, *, min_score: float = MIN_SCORE,
                 fuzzy_cutoff: float = FUZZY_CUTOFF, alpha: float = 0.03) -> None:
        self.min_score = float(min_score)
        self.fuzzy_cutoff = float(fuzzy_cutoff)
        self.alpha = float(alpha)
        self._lock = threading.Lock()
        self._classifier_ready = False
        self._build(labels)

    @classmethod
    def from_frame(cls, labels: pd.DataFrame, **params: float) -> TitleNormaliser:
        """Normaliser over any label table (benchmarks build one without held-out titles)."""
        return cls(labels, **params)

    @classmethod
    def default(cls) -> TitleNormaliser:
        """The shared normaliser over every shipped reference label (built once per process)."""
        return _default()

    # -- index ---------------------------------------------------------------------------
    def _build(self, labels: pd.DataFrame) -> None:
        missing = {"label", "code"} - set(labels.columns)
        if missing:
            raise ValueError(f"label table lacks column(s) {sorted(missing)}")
        df = labels[["label", "code"]].astype(str).copy()
        df["weight"] = labels["weight"].astype(float) if "weight" in labels else 1.0
        valid = df["code"].map(occupations.is_valid_code)
        if not valid.all():
            log.warning("dropping %d labels with unknown STYRK-08 codes", int((~valid).sum()))
            df = df[valid]
        df = df[df["label"].str.strip() != ""].reset_index(drop=True)
        self._names = occupations.unit_groups()
        self._build_exact(df)
        # The classifier is most of the build time and only needed for titles the exact and
        # fuzzy stages miss, so it is fitted on first use (see _ensure_classifier).
        self._classifier_labels = df[df["code"] != UNKNOWN_CODE]
        log.debug("title index: %d labels, %d exact keys", len(df), len(self._exact))

    def _ensure_classifier(self) -> None:
        if self._classifier_ready:
            return
        with self._lock:
            if not self._classifier_ready:
                self._build_classifier(self._classifier_labels)
                self._classifier_ready = True
                log.debug("title classifier: %d labels, %d codes", self._x.shape[0],
                          len(self._class_codes))

    def _build_exact(self, df: pd.DataFrame) -> None:
        """Key → (code, label). Evidence order: a label that *is* the title, then labels that
        are the title plus a parenthetical qualifier, then the code's overall evidence."""
        df = df.assign(key=[exact_key(s) for s in df["label"].tolist()], base=0.0)
        # Without its qualifier "Prosjektingeniør (elektronikk)" still names an occupation,
        # more vaguely; it only decides a key that no label names directly.
        paren = df[df["label"].str.contains("(", regex=False)]
        paren = paren.assign(key=[exact_key(s, keep_parentheses=False)
                                  for s in paren["label"].tolist()],
                             base=paren["weight"], weight=0.0)
        df = pd.concat([df, paren], ignore_index=True)
        df = df[df["key"] != ""]
        prior = (df["weight"] + df["base"]).groupby(df["code"]).sum()
        ev = df.groupby(["key", "code"], sort=False).agg(
            weight=("weight", "sum"), base=("base", "sum"), label=("label", "first")).reset_index()
        ev["prior"] = ev["code"].map(prior)
        ev = ev.sort_values(["key", "weight", "base", "prior", "code"],
                            ascending=[True, False, False, False, True])
        best = ev.drop_duplicates("key", keep="first")
        score = np.where(best["weight"] > 0, 100.0, BASE_SCORE)
        self._exact: dict[str, tuple[str, str, float]] = dict(
            zip(best["key"], zip(best["code"], best["label"], score)))
        # Misspellings may only land on identifiable codes.
        self._fuzzy_keys = best.loc[best["code"] != UNKNOWN_CODE, "key"].tolist()

    def _build_classifier(self, df: pd.DataFrame) -> None:
        """Multinomial naive Bayes over character n-gram TF-IDF of every label.

        A classifier rather than one nearest label, because unseen titles are mostly new
        compounds of known parts ("lager" + "kontrollør"), and evidence from all labels of a
        code outweighs one look-alike (+3-4 points held-out accuracy over nearest label).
        """
        df = (df.assign(text=[surface(s) for s in df["label"].tolist()])
              .groupby(["code", "text"], as_index=False)
              .agg(weight=("weight", "sum"), label=("label", "first")))
        df = df[df["text"] != ""].sort_values(["code", "text"], ignore_index=True)
        self._tfidf = CharNgramTfidf((2, 4))
        x = self._tfidf.fit_transform(df["text"].tolist())
        codes, inv = np.unique(df["code"].to_numpy(dtype=str), return_inverse=True)
        member = sp.csr_matrix((df["weight"].to_numpy(np.float32), (inv, np.arange(len(df)))),
                               shape=(len(codes), len(df)))
        counts = np.asarray((member @ x).todense(), dtype=np.float64) + self.alpha
        self._log_prob = (np.log(counts) - np.log(counts.sum(axis=1, keepdims=True))).T.astype(
            np.float32)  # (n_features, n_codes), so queries are one sparse-dense product
        self._class_codes = codes
        self._bounds = np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=len(codes)))])
        self._x = x
        self._x_labels = df["label"].to_numpy(dtype=object)

    # -- queries ---------------------------------------------------------------------------
    def _match(self, code: str, score: float, method: str, matched: str) -> TitleMatch:
        return TitleMatch(code, self._names[code], round(float(score), 1), method, matched)

    def _exact_match(self, title: str) -> TitleMatch | None:
        hit = self._exact.get(exact_key(title))
        if hit is not None:
            return self._match(hit[0], hit[2], "exact", hit[1])
        for key in variants(title):
            hit = self._exact.get(key)
            if hit is not None:
                return self._match(hit[0], min(hit[2], REWRITE_SCORE), "exact", hit[1])
        return None

    def _fuzzy(self, titles: list[str], chunk: int = 1024) -> list[TitleMatch | None]:
        """A title within a few edits of a known label is that label (typos, inflections)."""
        from rapidfuzz import fuzz, process

        keys = [exact_key(t) for t in titles]
        out: list[TitleMatch | None] = []
        for start in range(0, len(keys), chunk):
            scores = process.cdist(keys[start:start + chunk], self._fuzzy_keys, scorer=fuzz.ratio,
                                   score_cutoff=self.fuzzy_cutoff, dtype=np.uint8, workers=-1)
            best = scores.argmax(axis=1)  # first maximum: deterministic, batch-independent
            for row, j in enumerate(best):
                s = float(scores[row, j])
                if s >= self.fuzzy_cutoff and keys[start + row]:
                    code, label, _ = self._exact[self._fuzzy_keys[j]]
                    out.append(self._match(code, s, "fuzzy", label))
                else:
                    out.append(None)
        return out

    def _classify(self, titles: list[str]) -> list[TitleMatch | None]:
        """Most probable code under the n-gram classifier.

        Score = mean of (a) the cosine similarity to the closest label of that code and (b) the
        share of the title's character 4-grams seen in any label, × 100. (b) separates unseen
        but real titles from noise far better than (a) alone (see ``known_share``); (a) keeps
        the score lower when no label of the chosen code looks like the title.
        """
        self._ensure_classifier()
        docs = [surface(t) for t in titles]
        q = self._tfidf.transform(docs)
        best = np.asarray(q @ self._log_prob).argmax(axis=1)
        out: list[TitleMatch | None] = []
        for row, c in enumerate(best):
            lo, hi = self._bounds[c], self._bounds[c + 1]
            sims = (self._x[lo:hi] @ q[row].T).toarray().ravel()
            j = int(sims.argmax())
            score = 50.0 * (float(sims[j]) + self._tfidf.known_share(docs[row]))
            if score < self.min_score:
                out.append(None)
            else:
                out.append(self._match(str(self._class_codes[c]), score, "tfidf",
                                       self._x_labels[lo + j]))
        return out

    def normalise(self, title: str) -> TitleMatch | None:
        """Best STYRK-08 match for one title, or ``None`` if empty or below ``min_score``."""
        return self.normalise_many([title])[0]

    def normalise_many(self, titles: Iterable[str]) -> list[TitleMatch | None]:
        """Batch version of :meth:`normalise`; same result per title, duplicates computed once."""
        titles = [t if isinstance(t, str) else "" for t in titles]
        found: dict[str, TitleMatch | None] = {}
        rest: list[str] = []
        for t in dict.fromkeys(titles):
            m = self._exact_match(t) if t.strip() else None
            if m is not None or not exact_key(t):
                found[t] = m
            else:
                rest.append(t)
        if rest and self.fuzzy_cutoff <= 100.0:
            fuzzy = self._fuzzy(rest)
            found.update((t, m) for t, m in zip(rest, fuzzy) if m is not None)
            rest = [t for t, m in zip(rest, fuzzy) if m is None]
        if rest:
            found.update(zip(rest, self._classify(rest)))
        return [found[t] for t in titles]


_DEFAULT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _default() -> TitleNormaliser:
    with _DEFAULT_LOCK:  # API worker threads must not build it twice
        return TitleNormaliser(reference_labels())


@lru_cache(maxsize=8192)
def normalise_title(title: str) -> TitleMatch | None:
    """STYRK-08 match for a free-text title with the default normaliser (cached per title).

    Returns ``None`` for empty titles and for titles scoring below :data:`MIN_SCORE`.
    """
    return _default().normalise(title)


def normalise_titles(titles: Iterable[str]) -> list[TitleMatch | None]:
    """Batch :func:`normalise_title`: one entry per input, same results as one by one."""
    return _default().normalise_many(titles)
