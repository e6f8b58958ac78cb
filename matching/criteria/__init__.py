"""The feature families, one module each; ALL is the order used by the model.

A module declares its criteria (`base.Criterion`, levels from one `base.Levels`
declaration) in `CRITERIA`; its phrases live in the catalogues of `matching.messages`.
"""
from __future__ import annotations

from matching.criteria import (
    adaptation,
    deadline,
    distance,
    hours,
    inclusion,
    industry,
    occupation,
    requirements,
    skills,
)
from matching.criteria.base import Criterion, Levels

ALL: tuple[Criterion, ...] = tuple(
    c
    for module in (occupation, skills, distance, hours, adaptation, requirements, inclusion, deadline, industry)
    for c in module.CRITERIA
)
BY_NAME: dict[str, Criterion] = {c.name: c for c in ALL}

__all__ = ["ALL", "BY_NAME", "Criterion", "Levels"]
