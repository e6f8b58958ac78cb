"""Turn a pair's stored explanation into reasons a person can read.

An explanation is plain JSON (kept in the match lists and produced live alike):
{"intercept": b, "features": {criterion: {"level", "contribution", "values"}}}, and
intercept + Σ contribution == raw score exactly. Redaction (liaison without consent)
swaps the health-related criterion's text for one that names no need.
"""
from __future__ import annotations

from typing import Any

from matching.criteria import BY_NAME


def feature_rows(explanation: dict[str, Any], lang: str, redact: bool = False) -> list[dict[str, Any]]:
    rows = []
    for name, f in explanation["features"].items():
        crit = BY_NAME[name]
        hide = redact and crit.sensitive
        rows.append({
            "feature": name,
            "description": crit.description,
            "level": f["level"],
            "level_label": crit.level_label(f["level"], lang),
            "values": None if hide else f["values"],
            "contribution": round(f["contribution"], 4),
            "effect": "+" if f["contribution"] >= 0 else "-",
            "text": crit.text(f["level"], f["values"], lang, redact=redact),
        })
    return rows


def reasons(
    explanation: dict[str, Any], lang: str, redact: bool = False, max_positive: int = 3, max_negative: int = 2
) -> list[dict[str, Any]]:
    """The largest positive and the largest negative contributions, rendered."""
    feats = {n: f for n, f in explanation["features"].items() if not _hidden(n, f, redact)}
    pos = sorted((n for n, f in feats.items() if f["contribution"] > 1e-9), key=lambda n: -feats[n]["contribution"])
    neg = sorted((n for n, f in feats.items() if f["contribution"] < -1e-9), key=lambda n: feats[n]["contribution"])
    out = []
    for name in pos[:max_positive] + neg[:max_negative]:
        f = feats[name]
        out.append({
            "feature": name,
            "effect": "+" if f["contribution"] > 0 else "-",
            "contribution": round(f["contribution"], 4),
            "text": BY_NAME[name].text(f["level"], f["values"], lang, redact=redact),
        })
    return out


def _hidden(name: str, feature: dict[str, Any], redact: bool) -> bool:
    """Uninformative values are no headline reason — except where that would itself reveal
    health data: for a redacted view, "has no needs" must look exactly like "needs covered"."""
    crit = BY_NAME[name]
    if crit.uninformative is None or (redact and crit.sensitive):
        return False
    return bool(crit.uninformative(feature["values"]))


def distance_km(explanation: dict[str, Any]) -> float | None:
    f = explanation["features"].get("distance")
    return None if f is None else round(float(f["values"]["km"]), 1)
