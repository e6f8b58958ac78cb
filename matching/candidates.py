"""Blocking: declared hard constraints cut the pair space before anything is scored.

Each constraint is data (name, vectorised check, reason text), so the same list both
generates candidates and explains, for one pair, why an opening was excluded. Adaptation
needs are deliberately absent: having needs must never exclude anyone.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import BallTree

from matching import schema
from matching.pairs import Pairs
from matching.taxonomy.places import EARTH_RADIUS_KM
from matching.world import GOALS, LICENCES, World


@dataclass(frozen=True)
class HardConstraint:
    name: str
    description: str
    check: Callable[[Pairs], np.ndarray]  # True where the pair passes
    reason: Callable[[Pairs, int, str], str]  # why pair i fails, in a language


def _open(pairs: Pairs) -> np.ndarray:
    o = pairs.world.openings
    return o.is_open[pairs.o] & (o.deadline_ord[pairs.o] >= pairs.as_of)


def _open_reason(pairs: Pairs, i: int, lang: str) -> str:
    o = pairs.world.openings
    status = o.frame["status"].iloc[pairs.o[i]]
    if status != "open":
        return f"The opening is not open (status: {status})" if lang == "en" else f"Utlysningen er ikke åpen (status: {status})"
    deadline = o.frame["deadline"].iloc[pairs.o[i]]
    return f"The application deadline has passed ({deadline})" if lang == "en" else f"Søknadsfristen er passert ({deadline})"


EITHER = GOALS.index(schema.Goal.either.value)


def _kind(pairs: Pairs) -> np.ndarray:
    goal = pairs.world.participants.goal_code[pairs.p]
    return (goal == EITHER) | (goal == pairs.world.openings.kind_code[pairs.o])


def _kind_reason(pairs: Pairs, i: int, lang: str) -> str:
    goal, kind = pairs.pcol("goal")[i], pairs.ocol("kind")[i]
    names = {"job": ("jobb", "a job"), "trial": ("arbeidstrening", "a trial placement")}
    if lang == "en":
        return f"The participant wants {names[goal][1]}, this is {names[kind][1]}"
    return f"Deltakeren ønsker {names[goal][0]}, dette er {names[kind][0]}"


def _commute(pairs: Pairs) -> np.ndarray:
    return pairs.distance_km <= pairs.world.participants.max_commute_km[pairs.p]


def _commute_reason(pairs: Pairs, i: int, lang: str) -> str:
    km, limit = pairs.distance_km[i], float(pairs.pcol("max_commute_km")[i])
    if lang == "en":
        return f"{km:.0f} km from home, beyond the limit of {limit:.0f} km"
    return f"{km:.0f} km fra bosted, over grensen på {limit:.0f} km"


def _licence(pairs: Pairs) -> np.ndarray:
    need = pairs.world.openings.licence_mask[pairs.o]
    held = pairs.world.participants.licence_mask[pairs.p]
    return (need & ~held) == 0


def _licence_reason(pairs: Pairs, i: int, lang: str) -> str:
    need = pairs.world.openings.licence_mask[pairs.o[i]]
    held = pairs.world.participants.licence_mask[pairs.p[i]]
    missing = [c for b, c in enumerate(LICENCES) if (need & ~held) >> b & 1]
    classes = ", ".join(missing)
    return f"Requires driving licence class {classes}" if lang == "en" else f"Krever førerkort klasse {classes}"


CONSTRAINTS: tuple[HardConstraint, ...] = (
    HardConstraint("open", "the opening is open and its deadline has not passed", _open, _open_reason),
    HardConstraint("kind_wanted", "the participant wants this kind (job / trial placement)", _kind, _kind_reason),
    HardConstraint("within_commute", "distance from home is within the participant's limit", _commute, _commute_reason),
    HardConstraint("licence_held", "the participant holds every driving licence the opening requires", _licence, _licence_reason),
)


def passes(pairs: Pairs) -> np.ndarray:
    ok = np.ones(len(pairs), dtype=bool)
    for c in CONSTRAINTS:
        ok &= c.check(pairs)
    return ok


def failures(pairs: Pairs, i: int, lang: str) -> list[dict[str, str]]:
    """Every constraint pair i fails, with a reason a person can read."""
    one = pairs.subset(np.arange(len(pairs)) == i)
    return [{"constraint": c.name, "reason": c.reason(one, 0, lang)} for c in CONSTRAINTS if not c.check(one)[0]]


def kind_mask(world: World, kind: str) -> np.ndarray:
    if kind == "any":
        return np.ones(len(world.openings), dtype=bool)
    return (world.openings.frame["kind"] == kind).to_numpy()


def _tree(world: World, day: int, kind: str) -> tuple[np.ndarray, BallTree | None]:
    """Eligible openings and their BallTree, built once per snapshot, day and kind (a batch
    asks for it once per shard; a live request once per call)."""
    o = world.openings
    hit = o.__dict__.get("_trees", {}).get((day, kind))
    if hit is None:
        eligible = np.flatnonzero(o.is_open & (o.deadline_ord >= day) & kind_mask(world, kind))
        tree = (BallTree(np.radians(np.column_stack([o.lat[eligible], o.lon[eligible]])), metric="haversine")
                if len(eligible) else None)
        hit = (eligible, tree)
        # Replaced whole (threads may read it), keeping the latest day's trees only.
        trees = {key: v for key, v in o.__dict__.get("_trees", {}).items() if key[0] == day}
        o.__dict__["_trees"] = {**trees, (day, kind): hit}
    return hit


def for_participants(world: World, p_idx, as_of: dt.date, kind: str = "any") -> Pairs:
    """Candidate pairs for the given participants, from a radius search then every constraint."""
    p_idx = np.asarray(p_idx, dtype=np.int64)
    day = as_of.toordinal()
    eligible, tree = _tree(world, day, kind)  # built on the first call of a day, even for no participants
    if len(eligible) == 0 or len(p_idx) == 0:
        return Pairs.build(world, [], [], day)
    pw = world.participants
    # A hair of slack so the exact haversine check below is the one that decides.
    radius = pw.max_commute_km[p_idx] / EARTH_RADIUS_KM * 1.001
    hits = tree.query_radius(np.radians(np.column_stack([pw.lat[p_idx], pw.lon[p_idx]])), r=radius)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    ps = np.repeat(p_idx, counts)
    os_ = eligible[np.concatenate(hits).astype(np.int64)] if counts.sum() else np.array([], dtype=np.int64)
    pairs = Pairs.build(world, ps, os_, day)
    return pairs.subset(passes(pairs))


def for_openings(world: World, o_idx, as_of: dt.date) -> Pairs:
    """Candidate pairs for the given openings against every participant."""
    o_idx = np.asarray(o_idx, dtype=np.int64)
    n_p = len(world.participants)
    ps = np.tile(np.arange(n_p, dtype=np.int64), len(o_idx))
    os_ = np.repeat(o_idx, n_p)
    pairs = Pairs.build(world, ps, os_, as_of.toordinal())
    return pairs.subset(passes(pairs))
