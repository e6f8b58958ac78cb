"""Role-based views: what each role may see of a participant's data.

Adaptation needs are health data. Advisers (of the participant's office, enforced in
`api.deps`) and admins see them through the participant endpoints. An opening's candidates
are employer-facing for everyone: they are computed on `World.employer_view`, which holds no
need of a participant who did not consent and no location finer than a home area, so there
is nothing left to redact from their text — privacy by what is computed, not by rewording.
"""

from __future__ import annotations

from typing import Any

from matching import allocation, explain
from matching.explain import Explanation, FeatureRow, Reason

SUMMARY_FIELDS = (
    "participant_id",
    "office_id",
    "registered_at",
    "postal_code",
    "goal",
    "desired_titles",
    "desired_styrk08",
    "max_commute_km",
    "available_from",
    "adviser_id",
)


def reasons(explanation: Explanation, lang: str) -> list[Reason]:
    return explain.reasons(explanation, lang)


def participant_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in SUMMARY_FIELDS}


def feature_rows(explanation: Explanation, lang: str) -> list[FeatureRow]:
    """Every feature of a pair for an adviser/admin, values readable (need codes, dates, labels)."""
    return explain.feature_rows(explanation, lang)


def with_reasons(items: list[dict[str, Any]], lang: str, *, adviser: bool = False) -> list[dict[str, Any]]:
    """Ranked items from `matching.serving`, each explanation rendered as the reasons that set
    it apart in its list, and marked `weak` when it is no recommendation (`explain.is_weak`).
    `adviser`: a list an adviser reads about a participant, where a covered adaptation need is
    always a headline reason (an opening's candidates are employer-facing: never)."""
    exps = [item["explanation"] for item in items]
    heads = explain.list_reasons(exps, lang, covered_needs=adviser)
    return [
        {**{k: v for k, v in item.items() if k != "explanation"}, "reasons": r, "weak": explain.is_weak(e)}
        for item, e, r in zip(items, exps, heads)
    ]


def with_allocation(items: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each match's recommended-now note (issue 14) with its reason in `lang`."""
    for item in items:
        note = item.get("allocation")
        item["allocation"] = None if note is None else allocation.note_view(note, lang)
    return items


def pair_view(pair: dict[str, Any], lang: str) -> dict[str, Any]:
    """`matching.serving.pair_explanation` for an adviser/admin: every feature as a row."""
    rows = feature_rows(pair["explanation"], lang)
    return {
        **{k: v for k, v in pair.items() if k != "explanation"},
        "features": rows,
        "intercept": round(pair["intercept"], 4),
        "weak": explain.is_weak(pair["explanation"]),
    }


def room(state: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A recommended-now list's head (`allocation.room_state`) with its sentence in `lang`."""
    return allocation.room_view(state, lang)
