"""A pair's explanation, typed, and the reasons a person reads, rendered from it.

`Explanation` is what the engine produces (live) and rebuilds from a stored list's levels:
the intercept and, per criterion, the active level, its contribution and the values the
reason quotes; intercept + Σ contribution == raw score exactly. `to_json` gives the plain
JSON form ({"intercept", "features": {criterion: {"level", "contribution", "values"}}}).
Texts come from the criteria's catalogue phrases (`matching.messages`).

Nothing is redacted here: what an employer-facing reader may not know is not in the
explanations they get (they are computed on the employer-facing view, `World.employer_view`),
so the text cannot carry it either.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from matching.criteria import BY_NAME

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

    @property
    def raw_score(self) -> float:
        return self.intercept + sum(f.contribution for f in self.features.values())

    def to_json(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "features": {n: f.to_json() for n, f in self.features.items()}}


class Reason(TypedDict):
    feature: str
    effect: str
    contribution: float
    text: str


class FeatureRow(TypedDict):
    feature: str
    description: str
    level: int
    level_label: str
    values: dict[str, Any]
    contribution: float
    effect: str
    text: str


def feature_rows(explanation: Explanation, lang: str) -> list[FeatureRow]:
    rows: list[FeatureRow] = []
    for name, f in explanation.features.items():
        crit = BY_NAME[name]
        rows.append({
            "feature": name,
            "description": crit.description,
            "level": f.level,
            "level_label": crit.level_label(f.level, lang),
            "values": dict(f.values),
            "contribution": round(f.contribution, 4),
            "effect": "+" if f.contribution >= 0 else "-",
            "text": crit.text(f.level, f.values, lang),
        })
    return rows


def reasons(explanation: Explanation, lang: str, max_positive: int = 3, max_negative: int = 2) -> list[Reason]:
    """The largest positive and the largest negative contributions, rendered."""
    feats = {n: f for n, f in explanation.features.items() if not _hidden(n, f)}
    pos = sorted((n for n, f in feats.items() if f.contribution > 1e-9), key=lambda n: -feats[n].contribution)
    neg = sorted((n for n, f in feats.items() if f.contribution < -1e-9), key=lambda n: feats[n].contribution)
    out: list[Reason] = []
    for name in pos[:max_positive] + neg[:max_negative]:
        f = feats[name]
        out.append({
            "feature": name,
            "effect": "+" if f.contribution > 0 else "-",
            "contribution": round(f.contribution, 4),
            "text": BY_NAME[name].text(f.level, f.values, lang),
        })
    return out


def _hidden(name: str, feature: FeatureExplanation) -> bool:
    """Uninformative values (no needs registered, no industry preference) are no headline
    reason; a criterion not assessed contributes 0 and is never one either."""
    crit = BY_NAME[name]
    if crit.uninformative is None or feature.level == crit.not_assessed_level:
        return False
    return bool(crit.uninformative(feature.values))


def distance_km(explanation: Explanation) -> float | None:
    """The exact distance, for the adviser's view only (None in an employer-facing one)."""
    f = explanation.features.get("distance")
    if f is None or "band_lo" in f.values:
        return None
    return round(float(f.values["km"]), 1)
