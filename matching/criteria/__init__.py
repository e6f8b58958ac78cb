"""The feature families, one module each; ALL is the order used by the model."""
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
from matching.criteria.base import Criterion, Evaluation

ALL: tuple[Criterion, ...] = tuple(
    c
    for module in (occupation, skills, distance, hours, adaptation, requirements, inclusion, deadline, industry)
    for c in module.CRITERIA
)
BY_NAME: dict[str, Criterion] = {c.name: c for c in ALL}

__all__ = ["ALL", "BY_NAME", "Criterion", "Evaluation"]
