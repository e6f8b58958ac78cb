"""Turn a pair's stored explanation into reasons a person can read.

An explanation is plain JSON (kept in the match lists and produced live alike):
{"intercept": b, "features": {criterion: {"level", "contribution", "values"}}}, and
intercept + Σ contribution == raw score exactly. Nothing is redacted here: what an
employer-facing reader may not know is not in the explanations they get (they are computed
on the employer-facing view, `World.employer_view`), so the text cannot carry it either.
"""
from __future__ import annotations

from typing import Any

from matching.criteria import BY_NAME


def feature_rows(explanation: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    rows = []
    for name, f in explanation["features"].items():
        crit = BY_NAME[name]
        rows.append({
            "feature": name,
            "description": crit.description,
            "level": f["level"],
            "level_label": crit.level_label(f["level"], lang),
            "values": f["values"],
            "contribution": round(f["contribution"], 4),
            "effect": "+" if f["contribution"] >= 0 else "-",
            "text": crit.text(f["level"], f["values"], lang),
        })
    return rows


def reasons(
    explanation: dict[str, Any], lang: str, max_positive: int = 3, max_negative: int = 2
) -> list[dict[str, Any]]:
    """The largest positive and the largest negative contributions, rendered."""
    feats = {n: f for n, f in explanation["features"].items() if not _hidden(n, f)}
    pos = sorted((n for n, f in feats.items() if f["contribution"] > 1e-9), key=lambda n: -feats[n]["contribution"])
    neg = sorted((n for n, f in feats.items() if f["contribution"] < -1e-9), key=lambda n: feats[n]["contribution"])
    out = []
    for name in pos[:max_positive] + neg[:max_negative]:
        f = feats[name]
        out.append({
            "feature": name,
            "effect": "+" if f["contribution"] > 0 else "-",
            "contribution": round(f["contribution"], 4),
            "text": BY_NAME[name].text(f["level"], f["values"], lang),
        })
    return out


def _hidden(name: str, feature: dict[str, Any]) -> bool:
    """Uninformative values (no needs registered, no industry preference) are no headline
    reason; a criterion not assessed contributes 0 and is never one either."""
    crit = BY_NAME[name]
    if crit.uninformative is None or feature["level"] == crit.not_assessed_level:
        return False
    return bool(crit.uninformative(feature["values"]))


def distance_km(explanation: dict[str, Any]) -> float | None:
    """The exact distance, for the adviser's view only (None in an employer-facing one)."""
    f = explanation["features"].get("distance")
    if f is None or "band_lo" in f["values"]:
        return None
    return round(float(f["values"]["km"]), 1)
