"""Spatial indexes built once per snapshot, so a live request only queries them.

`candidates.for_participants` builds a BallTree over the eligible openings on every call and
`candidates.for_openings` pairs an opening with every participant; both are right for a
batch that amortises them over a shard, and far too slow for one live request against
50,000 openings or 300,000 participants. This index answers the same two questions with the
same result (the same hard constraints decide; only the radius pre-filter differs):

- participant → openings: one tree over every opening; the open/deadline/kind filter is
  applied to the hits, because the deadline moves with the day and the kind with the query.
- opening → participants: participants grouped by their commute limit, one tree per group,
  each queried with the group's largest limit and the hits cut to each participant's own, so
  a rural participant with a 100 km limit does not widen the search for everyone else.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from sklearn.neighbors import BallTree

from matching import candidates
from matching.pairs import Pairs
from matching.taxonomy.places import EARTH_RADIUS_KM
from matching.world import World

#: Above this many distinct commute limits, participants are grouped by quantile instead
#: (each group is one tree query, and sklearn's input checks cost ~1 ms a query).
MAX_GROUPS = 4
#: A hair of slack so the exact haversine check in the constraints is the one that decides.
SLACK = 1.001


def _tree(lat_lon_deg: np.ndarray) -> BallTree:
    return BallTree(np.radians(lat_lon_deg), metric="haversine")


def _groups(limit_km: np.ndarray) -> list[np.ndarray]:
    """Row groups by commute limit: one per distinct value, or quantile bands if many."""
    values = np.unique(limit_km)
    if len(values) <= MAX_GROUPS:
        return [np.flatnonzero(limit_km == v) for v in values]
    edges = np.unique(np.quantile(limit_km, np.linspace(0, 1, MAX_GROUPS + 1)[1:-1]))
    band = np.searchsorted(edges, limit_km, side="left")
    return [rows for b in np.unique(band) if len(rows := np.flatnonzero(band == b))]


class LiveIndex:
    """Trees over one World's openings and participants (immutable once built)."""

    def __init__(self, world: World):
        self.world = world
        of, pf = world.openings.frame, world.participants.frame
        self.opening_tree = _tree(of[["lat", "lon"]].to_numpy(float)) if len(of) else None
        limit = pf["max_commute_km"].to_numpy(float)
        coords = pf[["lat", "lon"]].to_numpy(float)
        self.participant_groups = [(float(limit[rows].max()), rows, _tree(coords[rows])) for rows in _groups(limit)]
        self.participant_where = np.radians(coords)
        self.participant_radius = limit / EARTH_RADIUS_KM * SLACK
        self.opening_where = np.radians(of[["lat", "lon"]].to_numpy(float))
        # Cheap numeric pre-filters for the kind and licence constraints, so the exact checks
        # (candidates.passes) and the scoring run on fewer pairs. They only drop pairs the
        # exact checks would drop too.
        goal = pf["goal"].to_numpy()
        self.wants = {kind: (goal == kind) | (goal == "either") for kind in ("job", "trial")}
        self.opening_is_job = (of["kind"] == "job").to_numpy(bool)  # strings compared once, not per request
        self._eligible: dict[tuple[int, str], np.ndarray] = {}

    def _eligible_openings(self, day: int, kind: str) -> np.ndarray:
        key = (day, kind)
        mask = self._eligible.get(key)
        if mask is None:
            o = self.world.openings
            mask = o.is_open & (o.deadline_ord >= day) & candidates.kind_mask(self.world, kind)
            if len(self._eligible) > 8:  # days roll over; keep the cache small
                self._eligible.clear()
            self._eligible[key] = mask
        return mask

    def for_participants(self, world: World, p_idx, as_of: dt.date, kind: str = "any") -> Pairs:
        """As candidates.for_participants. `world` may carry other participants (a posted
        profile) as long as its openings are this index's."""
        if world.openings is not self.world.openings:  # not the openings indexed here
            return candidates.for_participants(world, p_idx, as_of, kind)
        p_idx = np.asarray(p_idx, dtype=np.int64)
        day = as_of.toordinal()
        if self.opening_tree is None or len(p_idx) == 0:
            return Pairs.build(world, [], [], day)
        if world.participants is self.world.participants:
            where, radius = self.participant_where[p_idx], self.participant_radius[p_idx]
        else:  # a posted profile
            pf = world.participants.frame.iloc[p_idx]
            where = np.radians(pf[["lat", "lon"]].to_numpy(float))
            radius = pf["max_commute_km"].to_numpy(float) / EARTH_RADIUS_KM * SLACK
        hits = self.opening_tree.query_radius(where, r=radius)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        ps = np.repeat(p_idx, counts)
        os_ = np.concatenate(hits).astype(np.int64) if counts.sum() else np.array([], dtype=np.int64)
        keep = self._eligible_openings(day, kind)[os_]
        ps, os_ = ps[keep], os_[keep]
        keep = (world.openings.licence_mask[os_] & ~world.participants.licence_mask[ps]) == 0
        if world.participants is self.world.participants:
            job = self.opening_is_job[os_[keep]]
            keep[keep] = np.where(job, self.wants["job"][ps[keep]], self.wants["trial"][ps[keep]])
        pairs = Pairs.build(world, ps[keep], os_[keep], day)
        return pairs.subset(candidates.passes(pairs))

    def for_openings(self, world: World, o_idx, as_of: dt.date) -> Pairs:
        """As candidates.for_openings, searching each commute-limit group within its limit."""
        if world.participants is not self.world.participants or world.openings is not self.world.openings:
            return candidates.for_openings(world, o_idx, as_of)
        o_idx = np.asarray(o_idx, dtype=np.int64)
        day = as_of.toordinal()
        if len(o_idx) == 0 or not self.participant_groups:
            return Pairs.build(world, [], [], day)
        where = self.opening_where[o_idx]
        ps, os_ = [], []
        for limit, rows, tree in self.participant_groups:
            hits, dist = tree.query_radius(where, r=limit / EARTH_RADIUS_KM * SLACK, return_distance=True)
            for o, h, d in zip(o_idx, hits, dist):
                h = rows[h]
                h = h[d <= self.participant_radius[h]]  # each within their own limit (with the slack)
                h = h[self.wants["job" if self.opening_is_job[o] else "trial"][h]]
                h = h[(world.openings.licence_mask[o] & ~world.participants.licence_mask[h]) == 0]
                ps.append(h)
                os_.append(np.full(len(h), o, dtype=np.int64))
        pairs = Pairs.build(world, np.concatenate(ps), np.concatenate(os_), day)
        return pairs.subset(candidates.passes(pairs))
