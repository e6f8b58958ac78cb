"""Role-based views: what each role may see of a participant's data.

Adaptation needs are health data. Advisers (of the participant's office, enforced in
`api.deps`) and admins see them. Everyone else - in practice liaison staff reading an
opening's candidates - sees reasons rendered with `redact=True`, which say only how well the
workplace's offer fits, unless the participant consented to share needs with employers.
"""
from __future__ import annotations

from typing import Any

from api.auth import Principal
from matching import explain
from matching.criteria.adaptation import codes_in

SEES_HEALTH_DATA = frozenset({"adviser", "admin"})

SUMMARY_FIELDS = ("participant_id", "office_id", "registered_at", "postal_code", "goal", "desired_titles",
                  "desired_styrk08", "max_commute_km", "available_from")


def must_redact(principal: Principal, consented: bool) -> bool:
    """Whether this caller must not see this participant's adaptation needs."""
    return principal.role not in SEES_HEALTH_DATA and not consented


def reasons(explanation: dict[str, Any], lang: str, redact: bool) -> list[dict[str, Any]]:
    return explain.reasons(explanation, lang, redact=redact)


def participant_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in SUMMARY_FIELDS}


def feature_rows(explanation: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Every feature of a pair for an adviser/admin, with need bitmasks spelled out as codes."""
    rows = explain.feature_rows(explanation, lang)
    for row in rows:
        values = row["values"]
        if row["feature"] == "adaptation" and values and "needs_mask" in values:
            row["values"] = {**values, "needs": codes_in(values["needs_mask"]),
                             "covered": codes_in(values["covered_mask"])}
    return rows
