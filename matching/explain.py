"""A pair's explanation, typed, and the reasons a person reads, rendered from it.

`Explanation` is what the engine produces (live) and rebuilds from a stored list's levels:
the intercept and, per criterion, the active level, its contribution and the values the
reason quotes; intercept + Σ contribution == raw score exactly. `to_json` gives the plain
JSON form ({"intercept", "features": {criterion: {"level", "contribution", "values"}}}).
Texts come from the criteria's catalogue phrases (`matching.messages`).

Contributions are relative to each criterion's neutral level (`matching.scoring`), so a
feature's effect is "+" above it, "−" below it and "0" at it. A list's headline reasons
(`list_reasons`) are the ones that set an entry apart from the others in its list, and an
entry is *weak* (`is_weak`) when it is no recommendation: the model gives it a lower chance
than the average suggestion in its training history had.

Nothing is redacted here: what an employer-facing reader may not know is not in the
explanations they get (they are computed on the employer-facing view, `World.employer_view`),
so the text cannot carry it either.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypedDict

from matching.criteria import BY_NAME
from matching.messages import catalogue, t

#: One quoted value, plain Python (JSON-ready): a count, a share, a code, a text.
Value = int | float | str | bool


@dataclass(frozen=True)
class FeatureExplanation:
    level: int
    contribution: float
    values: Mapping[str, Value]

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "contribution": self.contribution, "values": dict(self.values)}


@dataclass(frozen=True)
class Explanation:
    intercept: float
    features: Mapping[str, FeatureExplanation]  # criterion name → its part, in the model's order
    #: The model's weak-entry floor as a raw score (`ScoringModel.weak_below`); None: the intercept.
    weak_below: float | None = None

    @property
    def raw_score(self) -> float:
        return self.intercept + sum(f.contribution for f in self.features.values())

    def to_json(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "features": {n: f.to_json() for n, f in self.features.items()}}


EPS = 1e-9


def effect(contribution: float) -> str:
    """ "+" above the neutral level, "-" below it, "0" at it (what the rounded figure shows)."""
    c = round(contribution, 4)
    return "+" if c > 0 else "-" if c < 0 else "0"


class Reason(TypedDict):
    feature: str
    effect: str
    contribution: float
    text: str


class FeatureRow(TypedDict):
    feature: str
    label: str
    description: str
    level: int
    level_label: str
    values: dict[str, Any]
    contribution: float
    effect: str
    text: str


def description(name: str, lang: str) -> str:
    """What the criterion measures, in `lang` (the declaration's English text for a criterion
    the catalogues do not describe yet)."""
    key = f"description.{name}"
    return t(key, lang) if key in catalogue(lang) else BY_NAME[name].description


def plain(value: Any, key: str = "") -> Any:
    """A value as a person reads it: numpy scalars as Python, floats to 2 decimals (whole
    numbers as integers), STYRK-08 codes (``*_code``) as 4-digit strings, ±inf as None."""
    if isinstance(value, Mapping):
        return {k: plain(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, key) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if key.endswith("_code") and isinstance(value, int | float):
        return f"{int(value):04d}" if value >= 0 else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = round(value, 2)
        return int(value) if value.is_integer() else value
    return value


def shown_values(name: str, values: Mapping[str, Value], lang: str) -> dict[str, Any]:
    crit = BY_NAME[name]
    shown = crit.shown_values(values, lang) if crit.shown_values is not None and values else dict(values)
    return plain(shown)


def feature_rows(explanation: Explanation, lang: str) -> list[FeatureRow]:
    rows: list[FeatureRow] = []
    for name, f in explanation.features.items():
        crit = BY_NAME[name]
        rows.append(
            {
                "feature": name,
                "label": t(f"criterion.{name}", lang) if f"criterion.{name}" in catalogue(lang) else name,
                "description": description(name, lang),
                "level": f.level,
                "level_label": crit.level_label(f.level, lang),
                "values": shown_values(name, f.values, lang),
                "contribution": round(f.contribution, 4),
                "effect": effect(f.contribution),
                "text": crit.text(f.level, f.values, lang),
            }
        )
    return rows


def _reason(name: str, f: FeatureExplanation, lang: str) -> Reason:
    return {
        "feature": name,
        "effect": effect(f.contribution),
        "contribution": round(f.contribution, 4),
        "text": BY_NAME[name].text(f.level, f.values, lang),
    }


def reasons(explanation: Explanation, lang: str, max_positive: int = 3, max_negative: int = 2) -> list[Reason]:
    """The largest positive and the largest negative contributions, rendered."""
    return list_reasons([explanation], lang, max_positive, max_negative)[0]


def covers_needs(explanation: Explanation) -> bool:
    """The participant has adaptation needs, they were assessed, and the workplace covers all."""
    f = explanation.features.get("adaptation")
    if f is None or f.level == BY_NAME["adaptation"].not_assessed_level or _hidden("adaptation", f):
        return False
    return f.level == BY_NAME["adaptation"].n_levels - 1


def _median(ordered: list[float]) -> float:
    """`statistics.median` of an already sorted list (the same arithmetic), without sorting
    it again for every entry of a list."""
    k = len(ordered)
    return ordered[k // 2] if k % 2 else (ordered[k // 2 - 1] + ordered[k // 2]) / 2


def list_reasons(
    explanations: Sequence[Explanation], lang: str, max_positive: int = 3, max_negative: int = 2, *, covered_needs: bool = False
) -> list[list[Reason]]:
    """Each entry's headline reasons: the positive and the negative contributions that set it
    apart most from the entries ranked above it (from the median contribution of each
    criterion over them), the larger contribution first among equals — so five openings that
    share occupation, distance and experience are told apart by what differs between them.
    The first entry (and a lone pair) gets its largest contributions. Only the entries above
    count, so an entry's reasons do not depend on how long the list asked for is. With
    `covered_needs` (the adviser's view) an entry whose workplace covers every adaptation
    need the participant has says so first, whatever its contribution: it is what decides
    whether the person can take the job."""
    out: list[list[Reason]] = []
    above: dict[str, list[float]] = {}  # criterion → the contributions of the entries above, sorted
    by_rank = itemgetter(0)
    for e in explanations:
        pos: list[tuple[tuple[float, float], str, FeatureExplanation]] = []
        neg: list[tuple[tuple[float, float], str, FeatureExplanation]] = []
        for n, f in e.features.items():
            c = f.contribution
            seen = above.get(n)
            if seen is None:  # the first entry: nothing above it
                typical, above[n] = 0.0, [c]
            else:
                typical = _median(seen)
                insort(seen, c)
            if (c > EPS or c < -EPS) and not _hidden(n, f):
                # what differs most from the entries above first, the larger contribution among equals
                (pos if c > EPS else neg).append(((-round(abs(c - typical), 4), -abs(c)), n, f))
        pos.sort(key=by_rank)  # stable: equal ranks keep the model's criterion order
        neg.sort(key=by_rank)
        covered = covered_needs and covers_needs(e)
        head = [("adaptation", e.features["adaptation"])] if covered else []
        shown = [(n, f) for _, n, f in pos if not (covered and n == "adaptation")]
        chosen = head + shown[:max_positive] + [(n, f) for _, n, f in neg[:max_negative]]
        out.append([_reason(n, f, lang) for n, f in chosen])
    return out


def is_weak(explanation: Explanation) -> bool:
    """No recommendation, only a listing: the model gives the pair a lower chance of reaching
    an interview than the average suggestion in the history it learned from had
    (`ScoringModel.weak_below`). The floor is in the score's own units, so it reads as "less
    likely than a typical suggestion", and it follows the history rather than one criterion
    (an occupation that shares nothing with a desired one is a minus in the reasons, and
    weak when the rest does not make up for it; README, "Reading the reasons")."""
    floor = explanation.intercept if explanation.weak_below is None else explanation.weak_below
    return explanation.raw_score < floor - EPS


def _hidden(name: str, feature: FeatureExplanation) -> bool:
    """Uninformative values (no needs registered, no industry preference) are no headline
    reason; a criterion not assessed contributes 0 and is never one either."""
    crit = BY_NAME[name]
    if crit.uninformative is None or feature.level == crit.not_assessed_level:
        return False
    return bool(crit.uninformative(feature.values))


def distance_km(explanation: Explanation) -> float | None:
    """The exact distance, for the adviser's view only (None in an employer-facing one)."""
    f = explanation.features.get("distance") or explanation.features.get("distance_quarters")
    if f is None or "band_lo" in f.values:
        return None
    return round(float(f.values["km"]), 1)
