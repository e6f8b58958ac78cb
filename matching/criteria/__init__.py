"""The feature families, one module each; ALL is the order used by the model.

A module declares its criteria (`base.Criterion`, levels from one `base.Levels`
declaration) in `CRITERIA`; its phrases live in the catalogues of `matching.messages`.
A criterion a newer one replaced stays in the module's `LEGACY` list: BY_NAME knows it, so a
model trained with it (and the runs it scored) can still be loaded and explained, but ALL —
what a model is trained on now — does not hold it.
"""

from __future__ import annotations

from matching.criteria import (
    adaptation,
    availability,
    deadline,
    distance,
    freshness,
    hours,
    inclusion,
    industry,
    occupation,
    office,
    requirements,
    responsiveness,
    skills,
)
from matching.criteria.base import Criterion, Levels

ALL: tuple[Criterion, ...] = tuple(
    c
    for module in (
        occupation,
        skills,
        distance,
        hours,
        availability,
        adaptation,
        requirements,
        inclusion,
        responsiveness,
        deadline,
        industry,
        office,
        freshness,
    )
    for c in module.CRITERIA
)
LEGACY: tuple[Criterion, ...] = tuple(hours.LEGACY + distance.LEGACY + inclusion.LEGACY)
BY_NAME: dict[str, Criterion] = {c.name: c for c in ALL + LEGACY}
#: A criterion whose levels were refined under the same name: a model saved with the old
#: level count is read with the legacy criterion (same evidence, its own levels and labels),
#: (name, level count saved) → legacy name.
RENAMED: dict[tuple[str, int], str] = {("distance", 4): "distance_quarters", ("inclusion", 3): "inclusion_thirds"}

__all__ = ["ALL", "BY_NAME", "RENAMED", "Criterion", "Levels"]
