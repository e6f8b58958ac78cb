"""Free-text occupation titles → STYRK-08 unit groups (4-digit codes).

Participants and openings arrive with titles typed by people ("butikkmedarbeider",
"Sykepleiere", "lagerassistent", "warehouse worker"); every criterion downstream works on
STYRK-08 codes. The normaliser is a label index over public reference lists (STYRK-08 names,
NAV's short titles, NAV's observed job-seeker titles, Norwegian ESCO labels with the official
ESCO → STYRK-08 mapping, utdanning.no's occupation titles, Swedish occupation names, ESCO
English labels, English ad titles (JobBERT, classifier stage only); see
``reference/SOURCES.md``) queried in three stages, cheapest first. Where the Norwegian ESCO
labels or utdanning.no file a title NAV also has under another code, NAV's code wins
(:func:`nav_wins`).

1. **exact** – the title's order-free, stemmed key (:mod:`._title_text`) names a label
   (score 100); or does so after swapping a synonymous head noun or gluing a two-word title
   into a compound (``REWRITE_SCORE``); or names a label once its parenthetical qualifier is
   dropped (``BASE_SCORE``).
2. **fuzzy** – the key is within a few edits of a label's key (rapidfuzz ``ratio`` ≥
   ``FUZZY_CUTOFF``): typos and odd inflections take that label's code.
3. **classifier** – a linear SVM over character n-gram and word TF-IDF of every label
   (:mod:`.title_model`, trained offline and shipped under ``models/``); handles unseen
   compounds ("lagerkontrollør") and English ad titles by their known parts.

:meth:`TitleNormaliser.top_many` ranks k codes per title with 0-1 confidences (CLI
``matching titles``); :meth:`TitleNormaliser.suggest` serves typeahead. A title whose score is
below ``min_score`` gets ``None``: a wrong code misleads silently, a
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

from matching.taxonomy import occupations, title_model
from matching.taxonomy._files import reference_path
from matching.taxonomy._prefix import PrefixIndex, WordCompleter
from matching.taxonomy._title_text import exact_key, surface, variants

log = logging.getLogger(__name__)

#: Score of a rewrite hit (synonymous head noun / glued compound): sure, but not verbatim.
REWRITE_SCORE = 95.0
#: Score of a title that matches labels only once their qualifier is dropped ("Fagsjef" ←
#: "Fagsjef (avis)"): a generic title, the code is the best-evidenced of several.
BASE_SCORE = 90.0
#: Default acceptance threshold on the 0-100 score. Only the classifier stage scores below 90;
#: its score is 100 × softmax probability × familiarity gate. Chosen on the benchmark's
#: validation split: at 15, no random letter string of 1,000 gets a code, 83 % of unseen NAV
#: titles do (63 % of those correctly); the rejected 17 % are right only 5 % of the time.
MIN_SCORE = 15.0
#: rapidfuzz ratio from which a title is taken as a misspelling of a known label.
FUZZY_CUTOFF = 90.0
#: The "unidentifiable" code; only an exact label can produce it, never a near neighbour.
UNKNOWN_CODE = "0000"

# Evidence weight per source, used only to break ties between codes sharing a label.
_SOURCE_WEIGHT = {
    "styrk": 2.0,
    "nav_styrk": 2.0,
    "esco_preferred": 1.0,
    "esco_alt": 0.5,
    "sv": 0.5,
    "jobbert": 0.25,
    "esco_no_preferred": 1.0,
    "esco_no_alt": 0.4,
    "utdanning": 1.5,
}
#: An ESCO alternative label (0.4) weighs less than a preferred one even when the preferred
#: one's occupation is split over two codes (0.5 each): "lagerarbeider" is the preferred
#: label of a 4321/9333 occupation and only an alternative label of forklift drivers (8344).
#: Sources that yield to NAV's own filing: a label of theirs that is (folded) also a NAV
#: job-seeker title under another code is dropped, so NAV's convention wins ("barnehagelærer":
#: the ESCO mapping says 5311, NAV files it under 2342). Applied to whatever label table a
#: normaliser is built from, so a benchmark that holds NAV titles out does not let them
#: decide (and leak into) the other sources' rows.
_YIELD_TO_NAV = frozenset({"esco_no_preferred", "esco_no_alt", "utdanning"})
_ENGLISH_SOURCES = frozenset({"esco_preferred", "esco_alt", "jobbert"})
#: Sources that train the classifier but do not name codes in the exact and fuzzy index.
#: JobBERT's ad titles are crowd labels: one ad title is filed under different codes by
#: different ads ("HR & Admin Assistant" under 2423 and 4416), so a single such row is weak
#: evidence; the classifier weighs them all. Keeping them out of the index raised top-1 on
#: unseen English ad titles by 0.4-0.8 points and changed nothing on NAV titles (benchmark
#: validation and test splits). The Norwegian ESCO labels and utdanning.no titles are not
#: NAV's filing either: the official ESCO → STYRK-08 mapping disagrees with NAV on about a
#: quarter of the titles they share, and in the index an exact hit on one of their labels
#: overrode NAV's convention ("Varebilsjåfør" → 8332, NAV's STYRK name says 8322). Out of the
#: index NAV top-1 on unseen titles was the same (validation 0.603 vs 0.607) and no fixture
#: title changed code; the classifier and typeahead still use them.
_NOT_INDEXED = frozenset({"jobbert", "esco_no_preferred", "esco_no_alt", "utdanning"})
_PAREN = re.compile(r"\([^()]*\)?")
#: The last, possibly partly typed, word of a folded query (the characters :func:`surface` keeps).
_LAST_WORD = re.compile(r"[0-9a-zæøåäöüéèáàóôç]+$")
#: Typeahead mix (:meth:`TitleNormaliser.suggest`): weight of each kind of evidence, how many
#: completions of the last word are classified, the exponent that tempers their evidence
#: weights, and the discount of a compound completion against a plain one.
SUGGEST_MIX = {"prefix": 0.2, "completions": 0.5, "query": 0.3, "n": 6, "temper": 0.5, "compound": 0.5}
_SPLIT_NAME = re.compile(r",\s*|\s+og\s+|\s*/\s*")
#: Qualifier-aware reading of "Head (qualifier)" titles (:meth:`TitleNormaliser._qualified`):
#: exponent of the level evidence (the major groups NAV files the head's other qualified
#: titles under), of the qualifier's own classification within each major group (the
#: field), the smoothing of both, and the least number of such NAV titles for the head.
#: Chosen on the benchmark's validation split (NAV top-1 0.603 → 0.628, see
#: benchmarks/RESULTS.md).
QUALIFIER_MIX = {"level": 1.0, "field": 0.5, "eps": 0.01, "min_history": 2}


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """A title's STYRK-08 unit group and how sure we are.

    Attributes
    ----------
    code : 4-digit STYRK-08 code, always valid per :func:`occupations.is_valid_code`.
    label : the code's official (SSB) name, for display.
    score : 0-100 confidence: 100 exact label, ``REWRITE_SCORE`` rewritten, ``BASE_SCORE``
        qualifier dropped, rapidfuzz ratio for fuzzy, 100 × probability × familiarity for
        the classifier (see :meth:`TitleNormaliser._ranked`).
    method : ``"exact"``, ``"fuzzy"`` or ``"classifier"`` (see module docstring).
    matched : the reference label that decided the match (for audit and debugging).
    """

    code: str
    label: str
    score: float
    method: str
    matched: str = ""

    @property
    def confidence(self) -> float:
        """``score`` on the 0-1 scale the ranked API (:meth:`TitleNormaliser.top`) uses."""
        return self.score / 100.0


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
        frames.append(pd.DataFrame(rows, columns=["label", "code"]).assign(weight=_SOURCE_WEIGHT[source], source=source))
    titles = pd.read_csv(reference_path("nav_job_titles.csv"), dtype=str, keep_default_na=False)
    frames.append(
        pd.DataFrame(
            {
                "label": titles["title"],
                "code": titles["code"],
                "weight": titles["years_observed"].str.count(r"\|").add(1).astype(float),
                "source": "nav_title",
            }
        )
    )
    frames.append(_swedish_labels())
    frames += _norwegian_labels()
    if include_english:
        esco = pd.read_csv(reference_path("esco_occupation_labels_en.csv"), dtype=str, keep_default_na=False)
        esco_source = np.where(esco["label_type"] == "preferred", "esco_preferred", "esco_alt")
        frames.append(
            pd.DataFrame(
                {
                    "label": esco["label"],
                    "code": esco["code"],
                    "weight": pd.Series(esco_source).map(_SOURCE_WEIGHT).to_numpy(),
                    "source": esco_source,
                }
            )
        )
        jobbert = pd.read_csv(reference_path("jobbert_titles_en.csv"), dtype=str, keep_default_na=False)
        frames.append(
            pd.DataFrame({"label": jobbert["title"], "code": jobbert["isco08"], "weight": _SOURCE_WEIGHT["jobbert"], "source": "jobbert"})
        )
    return pd.concat(frames, ignore_index=True)


def _swedish_labels() -> pd.DataFrame:
    """Swedish occupation names, one row per ISCO-08 code their SSYK group maps to.

    Swedish compounds share most parts with Norwegian ("lagerarbetare", "truckförare"), so
    they teach the classifier heads the Norwegian lists lack. A name whose SSYK group maps to
    n ISCO codes gives each 1/n of its evidence.
    """
    sv = pd.read_csv(reference_path("swedish_occupation_names.csv"), dtype=str, keep_default_na=False)
    codes = sv["isco08"].str.split("|")
    sv = sv.assign(code=codes, weight=_SOURCE_WEIGHT["sv"] / codes.str.len()).explode("code")
    return pd.DataFrame({"label": sv["title"], "code": sv["code"], "weight": sv["weight"], "source": "sv"}).reset_index(drop=True)


def _norwegian_labels() -> list[pd.DataFrame]:
    """Norwegian ESCO labels (official ESCO → STYRK-08 mapping) and utdanning.no titles.

    An ESCO occupation filed under n codes gives each 1/n of its evidence; a utdanning.no
    title with n codes gives its first (main) code 2/(n+1) and each other 1/(n+1).
    """
    esco = pd.read_csv(reference_path("esco_no_labels_styrk08.csv"), dtype=str, keep_default_na=False)
    n_codes = esco.groupby("esco_id")["code"].transform("nunique")
    source = np.where(esco["label_type"] == "preferred", "esco_no_preferred", "esco_no_alt")
    no = pd.DataFrame(
        {
            "label": esco["label"],
            "code": esco["code"],
            "weight": pd.Series(source).map(_SOURCE_WEIGHT).to_numpy() / n_codes,
            "source": source,
        }
    )
    ut = pd.read_csv(reference_path("utdanning_no_titles.csv"), dtype=str, keep_default_na=False)
    codes = ut["codes"].str.split("|")
    ut = ut.assign(code=codes, n=codes.str.len()).explode("code")
    # utdanning.no lists the main code first ("Kantinemedarbeider" 9412|5120): it gets twice
    # the share of each other code, the title's evidence still summing to the source weight.
    first = ~ut.index.duplicated(keep="first")
    share = np.where(first, 2.0, 1.0) / (ut["n"].to_numpy() + 1.0)
    ut = pd.DataFrame({"label": ut["title"], "code": ut["code"], "weight": _SOURCE_WEIGHT["utdanning"] * share, "source": "utdanning"})
    return [no.reset_index(drop=True), ut.reset_index(drop=True)]


def _head_levels(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per head of NAV's qualified titles (order-free key of the part before "("), how many
    of its titles NAV files in each major group (first digit): "Arbeidsleder" spreads over
    3, 4, 5, 6 and 8, "Avdelingsleder" is mostly 1."""
    nav = df[(df["source"] == "nav_title") & df["label"].str.contains("(", regex=False)]
    out: dict[str, np.ndarray] = {}
    for label, code in zip(nav["label"].tolist(), nav["code"].tolist()):
        key = exact_key(label.partition("(")[0])
        if key:
            counts = out.setdefault(key, np.zeros(10))
            counts[int(code[0])] += 1.0
    return out


def nav_wins(df: pd.DataFrame) -> pd.DataFrame:
    """Drop rows of :data:`_YIELD_TO_NAV` sources that NAV files under another code.

    A row is dropped when its folded label is a ``nav_title`` label, or such a label without
    its parenthetical qualifier, and its code is not one NAV uses for it: "Personlig
    assistent (syke- og helsevern)" is 5322 at NAV, so the ESCO rows filing "personlig
    assistent" under 5169 and 3412 go.
    """
    from matching.taxonomy._title_text import surface

    if "source" not in df:
        return df
    nav = df[df["source"] == "nav_title"]
    if nav.empty:
        return df
    nav_labels = nav["label"].tolist()
    nav_pairs = set(zip([surface(t) for t in nav_labels], nav["code"]))
    nav_pairs |= set(zip([surface(_PAREN.sub(" ", t)) for t in nav_labels], nav["code"]))
    nav_keys = {k for k, _ in nav_pairs}
    yields = df["source"].isin(_YIELD_TO_NAV).to_numpy()
    keys = [surface(t) if y else "" for t, y in zip(df["label"].tolist(), yields)]
    drop = [y and k in nav_keys and (k, c) not in nav_pairs for y, k, c in zip(yields, keys, df["code"].tolist())]
    if any(drop):
        log.debug("NAV's filing wins over %d labels of other sources", sum(drop))
        df = df[~np.asarray(drop)]
    return df


class TitleNormaliser:
    """Label index plus the exact → fuzzy → classifier stages; build once, query many times.

    Parameters
    ----------
    labels : frame with columns ``label`` and ``code`` (4-digit STYRK-08) and optionally
        ``weight`` (evidence for ambiguous labels, default 1) and ``source`` (training weight
        of the classifier, see :data:`title_model.SOURCE_WEIGHT`). Invalid codes are dropped.
    min_score : titles scoring below it (0-100) normalise to ``None``. Only the classifier
        stage can score that low (exact ≥ 90, fuzzy ≥ ``fuzzy_cutoff``); see
        :data:`MIN_SCORE`.
    fuzzy_cutoff : rapidfuzz ``ratio`` (0-100) from which a title counts as a misspelling of a
        known label and takes that label's code; above 100 disables the fuzzy stage.
    classifier : a fitted :class:`title_model.TitleClassifier` for these labels; when
        omitted one is trained on first use (minutes for the full table; the default
        normaliser loads the shipped one instead).
    """

    def __init__(
        self,
        labels: pd.DataFrame,
        *,
        min_score: float = MIN_SCORE,
        fuzzy_cutoff: float = FUZZY_CUTOFF,
        classifier: title_model.TitleClassifier | None = None,
    ) -> None:
        self.min_score = float(min_score)
        self.fuzzy_cutoff = float(fuzzy_cutoff)
        self._lock = threading.Lock()
        self._clf = classifier
        self._build(labels)

    @classmethod
    def from_frame(cls, labels: pd.DataFrame, **params) -> TitleNormaliser:
        """Normaliser over any label table (benchmarks build one without held-out titles)."""
        return cls(labels, **params)

    @classmethod
    def default(cls) -> TitleNormaliser:
        """The shared normaliser over every shipped reference label (built once per process)."""
        return _default()

    @property
    def labels(self) -> pd.DataFrame:
        """The validated label table (``label, code, weight, source``): what the classifier is
        trained on and typeahead searches. The exact and fuzzy index leave out
        ``_NOT_INDEXED`` sources; typeahead keeps them at their small evidence weight, where
        a crowd label only adds a suggestion, never a verdict."""
        return self._classifier_labels

    @property
    def classifier(self) -> title_model.TitleClassifier:
        """The trained stage; fitted on first use when none was given."""
        if self._clf is None:
            with self._lock:
                if self._clf is None:
                    self._clf = title_model.train(self._classifier_labels)
        return self._clf

    # -- index ---------------------------------------------------------------------------
    def _build(self, labels: pd.DataFrame) -> None:
        missing = {"label", "code"} - set(labels.columns)
        if missing:
            raise ValueError(f"label table lacks column(s) {sorted(missing)}")
        df = labels[["label", "code"]].astype(str).copy()
        df["weight"] = labels["weight"].astype(float) if "weight" in labels else 1.0
        df["source"] = labels["source"].astype(str) if "source" in labels else "label"
        valid = df["code"].map(occupations.is_valid_code)
        if not valid.all():
            log.info("dropping %d labels with codes outside STYRK-08", int((~valid).sum()))
            df = df[valid]
        df = nav_wins(df[df["label"].str.strip() != ""]).reset_index(drop=True)
        self._names = occupations.unit_groups()
        self._build_exact(df)
        self._classifier_labels = df
        self._words = frozenset(w for t in df["label"].tolist() for w in surface(t).split())
        self._head_levels = _head_levels(df)
        log.debug("title index: %d labels, %d exact keys", len(df), len(self._exact))

    def _build_exact(self, df: pd.DataFrame) -> None:
        """Key → (code, label). Evidence order: a label that *is* the title, then labels that
        are the title plus a parenthetical qualifier, then the code's overall evidence."""
        df = df[~df["source"].isin(_NOT_INDEXED)]
        df = df.assign(key=[exact_key(s) for s in df["label"].tolist()], base=0.0)
        # Without its qualifier "Prosjektingeniør (elektronikk)" still names an occupation,
        # more vaguely; it only decides a key that no label names directly.
        paren = df[df["label"].str.contains("(", regex=False)]
        paren = paren.assign(key=[exact_key(s, keep_parentheses=False) for s in paren["label"].tolist()], base=paren["weight"], weight=0.0)
        df = pd.concat([df, paren], ignore_index=True)
        df = df[df["key"] != ""]
        prior = (df["weight"] + df["base"]).groupby(df["code"]).sum()
        ev = (
            df.groupby(["key", "code"], sort=False)
            .agg(weight=("weight", "sum"), base=("base", "sum"), label=("label", "first"))
            .reset_index()
        )
        ev["prior"] = ev["code"].map(prior)
        ev = ev.sort_values(["key", "weight", "base", "prior", "code"], ascending=[True, False, False, False, True])
        best = ev.drop_duplicates("key", keep="first")
        score = np.where(best["weight"] > 0, 100.0, BASE_SCORE)
        self._exact: dict[str, tuple[str, str, float]] = dict(zip(best["key"], zip(best["code"], best["label"], score)))
        # Misspellings may only land on identifiable codes. Only keys of Nordic labels are
        # searched: the ~50k English labels would make fuzzy matching most of the batch time,
        # and the classifier's character n-grams absorb English typos as well.
        nordic = set(df.loc[~df["source"].isin(_ENGLISH_SOURCES), "key"])
        keep = (best["code"] != UNKNOWN_CODE) & best["key"].isin(nordic)
        self._fuzzy_keys = best.loc[keep, "key"].tolist()

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
        words = surface(title).split()
        if len(words) == 1:  # a glued compound written apart in a label: "nurseassistant"
            parts = title_model.split_compound(words[0], self._words)
            hit = self._exact.get(exact_key(" ".join(parts))) if parts else None
            if hit is not None:
                return self._match(hit[0], min(hit[2], REWRITE_SCORE), "exact", hit[1])
        return None

    def _fuzzy(self, titles: list[str], chunk: int = 1024) -> list[TitleMatch | None]:
        """A title within a few edits of a known label is that label (typos, inflections)."""
        from rapidfuzz import fuzz, process

        keys = [exact_key(t) for t in titles]
        out: list[TitleMatch | None] = []
        for start in range(0, len(keys), chunk):
            scores = process.cdist(
                keys[start : start + chunk], self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff, dtype=np.uint8, workers=-1
            )
            best = scores.argmax(axis=1)  # first maximum: deterministic, batch-independent
            for row, j in enumerate(best):
                s = float(scores[row, j])
                if s >= self.fuzzy_cutoff and keys[start + row]:
                    code, label, _ = self._exact[self._fuzzy_keys[j]]
                    out.append(self._match(code, s, "fuzzy", label))
                else:
                    out.append(None)
        return out

    def _ranked(self, titles: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` code indices and confidences (0-1) under the classifier.

        Confidence = softmax probability × a familiarity gate: the share of the title's
        character 4-grams seen in training, squared. Real titles, even unseen ones, are made
        of known parts (gate ≈ 1); keyboard noise is not, and must not get a confident code
        just because some code wins the softmax.
        """
        clf = self.classifier
        p = self._qualified(titles, clf.probabilities(titles))
        k = min(k, p.shape[1])
        top = np.argsort(-p, axis=1, kind="stable")[:, :k]
        gate = np.array([clf.known_share(t) for t in titles]) ** 2
        return top, np.take_along_axis(p, top, axis=1) * gate[:, None]

    def _qualified(self, titles: list[str], p: np.ndarray) -> np.ndarray:
        """Re-weigh the classifier's probabilities of "Head (qualifier)" titles, NAV's way.

        NAV files a qualified title by two parts: the head names the level ("Arbeidsleder",
        "Avdelingsleder", "Forsker": supervisor, manager, professional) and the qualifier the
        field ("kjøkken", "transport", "metallurgi"). A linear model over the whole title
        lets a frequent head pull towards its most common code ("Arbeidsleder (kjøkken)" →
        3122, NAV: 5120). For a head NAV has filed with at least ``min_history`` other
        qualifiers, each code's probability is multiplied by (a) the share of those filings
        in the code's major group (the level) and (b) the classifier's probability of the code
        for the qualifier alone, normalised within the major group (the field, read at that
        level), each smoothed by ``eps`` and raised to its exponent in
        :data:`QUALIFIER_MIX`, then renormalised. Heads without such a history (and English
        ad titles, whose parentheses say "part time" or "m/f") keep the classifier's reading.
        """
        mix = QUALIFIER_MIX
        rows: list[tuple[int, np.ndarray, str]] = []
        for i, t in enumerate(titles):
            head, sep, rest = t.partition("(")
            qual = rest.replace(")", " ").strip()
            if not sep or not surface(qual):
                continue
            level = self._head_levels.get(exact_key(head))
            if level is not None and level.sum() >= mix["min_history"]:
                rows.append((i, level / level.sum(), qual))
        if not rows:
            return p
        codes = self.classifier.codes_
        major = np.array([int(c[0]) for c in codes])
        onehot = np.zeros((len(codes), 10))
        onehot[np.arange(len(codes)), major] = 1.0
        p_field = self.classifier.probabilities([q for _, _, q in rows])
        field = p_field / np.maximum(p_field @ onehot, 1e-12)[:, major]
        idx = np.array([i for i, _, _ in rows])
        levels = np.stack([level for _, level, _ in rows])[:, major]
        z = np.log(p[idx] + 1e-12) + mix["level"] * np.log(levels + mix["eps"]) + mix["field"] * np.log(field + mix["eps"])
        q = np.exp(z - z.max(axis=1, keepdims=True))
        p = p.copy()
        p[idx] = q / q.sum(axis=1, keepdims=True)
        return p

    def _classify(self, titles: list[str], ranked: tuple[np.ndarray, np.ndarray] | None = None) -> list[TitleMatch | None]:
        """Most probable code under the classifier, if confident enough.

        ``ranked`` is :meth:`_ranked` of these titles when the caller already has it.
        """
        top, conf = ranked if ranked is not None else self._ranked(titles, 1)
        codes = self.classifier.codes_
        out: list[TitleMatch | None] = []
        for j, c in zip(top[:, 0], conf[:, 0]):
            score = 100.0 * float(c)
            out.append(None if score < self.min_score else self._match(str(codes[j]), score, "classifier", ""))
        return out

    def top(self, title: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most likely codes for one title with confidences in [0, 1], best first."""
        return self.top_many([title], k)[0]

    def top_many(self, titles: Iterable[str], k: int = 5) -> list[list[tuple[str, float]]]:
        """Ranked ``(code, confidence)`` lists, ``k`` per title (fewer only if fewer codes).

        Rank 1 is what :meth:`normalise_many` returns (its score / 100) when that is not
        ``None``; the rest come from the classifier, scaled so they never outrank it.
        Titles with no usable text get ``k`` codes with confidence 0 (the classifier's prior
        order), so a caller always gets the same shape. Below ``min_score / 100`` a code is a
        suggestion, not an answer.
        """
        titles = [t if isinstance(t, str) else "" for t in titles]
        if k < 1:
            raise ValueError("k must be at least 1")
        uniq = list(dict.fromkeys(titles))
        top, conf = self._ranked(uniq, k + 1)
        pos = {t: i for i, t in enumerate(uniq)}
        by_title = self._normalise_unique(
            uniq, lambda rest: self._classify(rest, (top[[pos[t] for t in rest]], conf[[pos[t] for t in rest]]))
        )
        best = [by_title[t] for t in titles]
        codes = self.classifier.codes_
        ranked = {}
        for t, row, cs in zip(uniq, top, conf):
            ranked[t] = [(str(codes[j]), float(c)) for j, c in zip(row, cs)]
        out = []
        for t, m in zip(titles, best):
            rows = ranked[t]
            if m is not None:
                head = (m.code, round(m.score / 100.0, 4))
                rest = [(c, min(s, head[1]) * (1.0 if m.method == "classifier" else 0.5)) for c, s in rows if c != m.code]
                rows = [head] + rest
            out.append([(c, round(s, 4)) for c, s in rows[:k]])
        return out

    def suggest(self, query: str, limit: int = 10) -> list[tuple[str, float]]:
        """Typeahead: codes for a partly typed title ("truckf", "lagermedarb"), best first.

        Three kinds of evidence, mixed with the weights of :data:`SUGGEST_MIX` into a 0-1
        score per code:

        * **prefix** - the codes of the labels that start with the query (or have a later
          word that does), by their share of those labels' evidence;
        * **completions** - the partly typed last word completed from the label vocabulary
          ("sykep" → "sykepleier"), and, read as a known modifier plus a partly typed head,
          at the head ("lager|medarb" → "lagermedarbeider"); each completed title is
          classified and the probabilities averaged by the completions' evidence, so an
          unseen compound or a prefix no label starts still reaches its occupation;
        * **query** - the classifier's probabilities for the query as typed (its character
          n-grams): what is left when nothing completes.

        The score is scaled by the query's familiarity gate (see :meth:`_ranked`), so keyboard
        noise gets no confident code; a query that is a whole label ranks that label's code
        first. Chosen on the benchmark's validation split (typeahead: first half of unseen NAV
        titles).
        """
        from matching.taxonomy._title_text import fold

        q = surface(query)
        if not q:
            return []
        clf = self.classifier
        codes = clf.codes_
        col = self._code_column
        mix = SUGGEST_MIX
        prefix = np.zeros(len(codes))
        if len(q) >= 2:
            ev = [(c, e) for c, e in self._prefix_index.evidence(q) if c != UNKNOWN_CODE and c in col]
            total = sum(e for _, e in ev)
            for code, e in ev:
                prefix[col[code]] = e / total
        texts = [query]
        weights: list[float] = []
        folded = fold(query)
        last = _LAST_WORD.search(folded)
        if last is not None and len(last.group()) >= 2:
            base = folded[: last.start()]
            for word, e in self._completions(last.group()):
                texts.append(base + word)
                weights.append(e)
        p = clf.probabilities(texts)
        score = mix["query"] * p[0] + mix["prefix"] * prefix
        if weights:
            share = np.asarray(weights) ** mix["temper"]
            score += mix["completions"] * (share / share.sum()) @ p[1:]
        else:
            score += mix["completions"] * p[0]
        score *= clf.known_share(query) ** 2
        exact = self._exact_match(query)
        if exact is not None and exact.code in col:
            score[col[exact.code]] = max(1.0, float(score.max()))
        top = np.argsort(-score, kind="stable")[:limit]
        return [(str(codes[j]), round(min(1.0, float(score[j])), 4)) for j in top if score[j] > 0]

    def _completions(self, word: str) -> list[tuple[str, float]]:
        """Completed last words with their evidence, the ``SUGGEST_MIX["n"]`` heaviest.

        Plain completions ("sykep" → "sykepleier") come first; compound ones ("kantine|medarb"
        → "kantinemedarbeider") only fill up, weighted below the lightest plain one by
        ``SUGGEST_MIX["compound"]`` (a frequent head such as "-plan" must not outweigh the
        word actually being typed), or by their head's evidence when nothing completes plainly.
        """
        completer = self._completer
        n = int(SUGGEST_MIX["n"])
        plain = completer.complete(word, n)
        if len(plain) >= n:
            return plain
        compound = [(w, e) for w, e in completer.compound(word, n) if w not in dict(plain)]
        if plain and compound:
            floor = plain[-1][1] * SUGGEST_MIX["compound"]
            top = compound[0][1]
            compound = [(w, floor * e / top) for w, e in compound]
        return (plain + compound)[:n]

    @property
    def _code_column(self) -> dict[str, int]:
        cols = getattr(self, "_code_col_cache", None)
        if cols is None:
            cols = {str(c): i for i, c in enumerate(self.classifier.codes_)}
            self._code_col_cache = cols
        return cols

    @property
    def _completer(self) -> WordCompleter:
        completer = getattr(self, "_completer_cache", None)
        if completer is None:
            with self._lock:
                completer = getattr(self, "_completer_cache", None)
                if completer is None:
                    df = self._classifier_labels
                    words: list[str] = []
                    weights: list[float] = []
                    nordic: list[bool] = []
                    english = df["source"].isin(_ENGLISH_SOURCES).tolist()
                    heads: list[bool] = []
                    for t, w, en in zip(df["label"].tolist(), df["weight"].tolist(), english):
                        main = surface(_PAREN.sub(" ", t)).split()
                        for word in set(surface(t).split()):
                            words.append(word)
                            weights.append(w)
                            nordic.append(not en)
                            # A Nordic title's head is its last word ("assistent", not
                            # "assisterende" of "assisterende direktør").
                            heads.append(not en and bool(main) and word == main[-1])
                    vocab = frozenset(x for x, no in zip(words, nordic) if no and len(x) >= 3)
                    completer = WordCompleter.build(words, np.asarray(weights), np.asarray(heads), vocab | title_model.lemmas())
                    self._completer_cache = completer
        return completer

    @property
    def _prefix_index(self) -> PrefixIndex:
        index = getattr(self, "_prefix_cache", None)
        if index is None:
            with self._lock:
                index = getattr(self, "_prefix_cache", None)
                if index is None:
                    df = self._classifier_labels
                    keys = (
                        df.assign(key=[surface(t) for t in df["label"].tolist()]).groupby(["key", "code"], as_index=False)["weight"].sum()
                    )
                    index = PrefixIndex.build(keys["key"].tolist(), keys["code"].tolist(), keys["weight"].to_numpy())
                    self._prefix_cache = index
        return index

    def normalise(self, title: str) -> TitleMatch | None:
        """Best STYRK-08 match for one title, or ``None`` if empty or below ``min_score``."""
        return self.normalise_many([title])[0]

    def normalise_many(self, titles: Iterable[str]) -> list[TitleMatch | None]:
        """Batch version of :meth:`normalise`; same result per title, duplicates computed once."""
        titles = [t if isinstance(t, str) else "" for t in titles]
        found = self._normalise_unique(list(dict.fromkeys(titles)), self._classify)
        return [found[t] for t in titles]

    def _normalise_unique(self, titles: list[str], classify) -> dict[str, TitleMatch | None]:
        found: dict[str, TitleMatch | None] = {}
        rest: list[str] = []
        for t in titles:
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
            found.update(zip(rest, classify(rest)))
        return found


_DEFAULT: TitleNormaliser | None = None
_DEFAULT_LOCK = threading.Lock()


def _default() -> TitleNormaliser:
    """The shared normaliser, built once per process however many threads ask at once.

    Single flight: the check and the build happen under one lock (an ``lru_cache`` around a
    locked body would not do: every thread that missed the cache before the first build
    finished would wait for the lock and then build its own)."""
    global _DEFAULT
    normaliser = _DEFAULT
    if normaliser is None:
        with _DEFAULT_LOCK:
            normaliser = _DEFAULT
            if normaliser is None:
                normaliser = _DEFAULT = _build_default()
    return normaliser


def _build_default() -> TitleNormaliser:
    labels = reference_labels()
    path = title_model.title_model_path()
    clf = title_model.load(path, expected_sha256=title_model.frame_sha256(labels))
    if clf is None:
        log.warning("no usable title model at %s; training one now (minutes). Run tools/build_title_model.py to ship it.", path)
    return TitleNormaliser(labels, classifier=clf)


@lru_cache(maxsize=8192)
def normalise_title(title: str) -> TitleMatch | None:
    """STYRK-08 match for a free-text title with the default normaliser (cached per title).

    Returns ``None`` for empty titles and for titles scoring below :data:`MIN_SCORE`.
    """
    return _default().normalise(title)


def normalise_titles(titles: Iterable[str]) -> list[TitleMatch | None]:
    """Batch :func:`normalise_title`: one entry per input, same results as one by one."""
    return _default().normalise_many(titles)


def top_titles(titles: Iterable[str], k: int = 5) -> list[list[tuple[str, float]]]:
    """Ranked ``(code, confidence)`` lists with the default normaliser, see
    :meth:`TitleNormaliser.top_many`."""
    return _default().top_many(titles, k)


def suggest_titles(query: str, limit: int = 10) -> list[tuple[str, float]]:
    """Typeahead with the default normaliser, see :meth:`TitleNormaliser.suggest`."""
    return _default().suggest(query, limit)
