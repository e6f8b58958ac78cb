"""Blocking, the one implementation: declared hard constraints cut the pair space before
anything is scored, for the nightly batch, a live request and a posted profile alike.

Each constraint is data (name, vectorised check, reason text), so the same list both
generates candidates and explains, for one pair, why an opening was excluded. Adaptation
needs are deliberately absent: having needs must never exclude anyone.

`Index` (one per World, `index(world)`) answers both "participant → candidate openings" and
"opening → candidate participants" with radius searches that only pre-filter; the
constraints decide.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from sklearn.neighbors import BallTree

from matching import schema
from matching.messages import t
from matching.pairs import Pairs, row_distance_km
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
        return t("constraint.not_open", lang, status=status)
    return t("constraint.deadline_passed", lang, deadline=o.frame["deadline"].iloc[pairs.o[i]])


EITHER = GOALS.index(schema.Goal.either.value)


def _kind(pairs: Pairs) -> np.ndarray:
    goal = pairs.world.participants.goal_code[pairs.p]
    return (goal == EITHER) | (goal == pairs.world.openings.kind_code[pairs.o])


def _kind_reason(pairs: Pairs, i: int, lang: str) -> str:
    goal, kind = pairs.pcol("goal")[i], pairs.ocol("kind")[i]
    return t("constraint.other_kind", lang, wants=t(f"constraint.kind.{goal}", lang), kind=t(f"constraint.kind.{kind}", lang))


def _commute(pairs: Pairs) -> np.ndarray:
    return pairs.distance_km <= pairs.world.participants.max_commute_km[pairs.p]


def _commute_reason(pairs: Pairs, i: int, lang: str) -> str:
    km, limit = pairs.distance_km[i], float(pairs.pcol("max_commute_km")[i])
    return t("constraint.beyond_commute", lang, km=f"{km:.0f}", limit=f"{limit:.0f}")


def _licence(pairs: Pairs) -> np.ndarray:
    need = pairs.world.openings.licence_mask[pairs.o]
    held = pairs.world.participants.licence_mask[pairs.p]
    return (need & ~held) == 0


def _licence_reason(pairs: Pairs, i: int, lang: str) -> str:
    need = pairs.world.openings.licence_mask[pairs.o[i]]
    held = pairs.world.participants.licence_mask[pairs.p[i]]
    missing = [c for b, c in enumerate(LICENCES) if (need & ~held) >> b & 1]
    return t("constraint.licence", lang, classes=", ".join(missing))


CONSTRAINTS: tuple[HardConstraint, ...] = (
    HardConstraint("open", "the opening is open and its deadline has not passed", _open, _open_reason),
    HardConstraint("kind_wanted", "the participant wants this kind (job / trial placement)", _kind, _kind_reason),
    HardConstraint("within_commute", "distance from home is within the participant's limit", _commute, _commute_reason),
    HardConstraint("licence_held", "the participant holds every driving licence the opening requires", _licence, _licence_reason),
)


#: What the constraints other than `within_commute` read of an opening, besides its being open
#: (`open`). Blocking groups the eligible openings by these (8 classes nationally) and evaluates
#: those constraints once per participant and class, on a representative opening, instead of
#: once per pair; `within_commute` it applies to each pair as declared. A constraint that reads
#: anything else of an opening must be added here (tests/test_candidates.py checks blocking
#: against `passes` on arbitrary worlds).
OPENING_KEYS: tuple[str, ...] = ("kind_code", "licence_mask")


def passes(pairs: Pairs) -> np.ndarray:
    ok = np.ones(len(pairs), dtype=bool)
    for c in CONSTRAINTS:
        ok &= c.check(pairs)
    return ok


def failures(pairs: Pairs, i: int, lang: str) -> list[dict[str, str]]:
    """Every constraint pair i fails, with a reason a person can read."""
    one = pairs.subset(np.arange(len(pairs)) == i)
    return [{"constraint": c.name, "reason": c.reason(one, 0, lang)} for c in CONSTRAINTS if not c.check(one)[0]]


# ---------------------------------------------------------------------------- the index

#: A hair of slack on every radius, so the exact haversine check of `within_commute` (in
#: `passes`) is the one that decides.
SLACK = 1.001

#: Participants per blocking call, at most (a longer list is taken in chunks of this many).
CHUNK = 2048

#: What an Index keeps of its points' and groups' candidates, at most (bytes). A national shard's
#: take ~5 MB (the densest ~40 MB; shards, by office, share no points); 8, 16 and 32 MB cost the
#: same CPU on the national sample, 4 MB a quarter more.
MEMO_BYTES = 16 << 20


class _Memo:
    """A bounded cache, least recently used out first; thread-safe (live requests share an
    Index); pickled empty (the Dask backend sends the World with its Index)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[0]

    def put(self, key: tuple, value: object, nbytes: int) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, nbytes)
            self.size += nbytes
            while self.size > self.budget and len(self.items) > 1:
                self.size -= self.items.popitem(last=False)[1][1]

    def __getstate__(self) -> int:
        return self.budget

    def __setstate__(self, budget: int) -> None:
        self.__init__(budget)  # type: ignore[misc]


def _tree(lat_deg: np.ndarray, lon_deg: np.ndarray) -> BallTree:
    return BallTree(np.radians(np.column_stack([lat_deg, lon_deg])), metric="haversine")


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + len)`` for every (start, len), without a loop."""
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))


@dataclass(frozen=True)
class _Eligible:
    """The openings eligible on a day (open, deadline not passed), their BallTree, and their
    classes by OPENING_KEYS: `cls[i]` the class of `rows[i]`, `rep[c]` a row of class c."""

    rows: np.ndarray
    tree: BallTree | None
    cls: np.ndarray
    rep: np.ndarray


def _opening_tree(world: World, day: int) -> _Eligible:
    """Openings eligible on `day` (open, deadline not passed) and their BallTree. Kept on the
    Openings object, so a World, its employer view and a posted profile's World (which share
    their openings) build it once, and batch workers receive it with the snapshot."""
    o = world.openings
    hit = o.__dict__.get("_trees", {}).get(day)
    if hit is None:
        rows = np.flatnonzero(o.is_open & (o.deadline_ord >= day))
        keys = np.column_stack([np.asarray(getattr(o, k), dtype=np.int64)[rows] for k in OPENING_KEYS])
        _, first, cls = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        tree = _tree(o.lat[rows], o.lon[rows]) if len(rows) else None
        hit = _Eligible(rows, tree, np.asarray(cls, dtype=np.int64).reshape(-1), rows[first])
        # Replaced whole (threads may read it), keeping the latest day's tree only.
        o.__dict__["_trees"] = {day: hit}
    return hit


@dataclass(frozen=True)
class _Homes:
    """Participants by home point, for "opening → candidate participants": homes share points
    (postal-code centres; in the employer view, home-area centres), so one opening's distance
    to every distinct point (a few thousand nationally) decides the commute constraint for
    everyone, without a tree or a query per participant. Within a point, participants are
    ordered by commute limit, longest first."""

    order: np.ndarray  # participant rows, point by point, each point's by limit descending
    start: np.ndarray  # per point: its first position in `order`
    count: np.ndarray  # per point: its participants
    first: np.ndarray  # per point: a participant standing there (the point's coordinates)
    widest: np.ndarray  # per point: the longest commute limit there (km)

    @classmethod
    def of(cls, world: World, at: np.ndarray) -> _Homes:
        """`at`: each participant's home point (`Index._points`)."""
        limit = world.participants.max_commute_km
        order = np.lexsort((-limit, at))
        count = np.bincount(at)
        start = np.cumsum(count) - count
        first = order[start]
        return cls(order, start, count, first, limit[first])

    def within_commute(self, world: World, o: int) -> tuple[np.ndarray, np.ndarray]:
        """The participants whose home is within their own commute limit of opening row `o`,
        and their distances — computed per point by `Pairs.distance_km` itself, so the bits
        are the ones a pair of the same participant and opening has."""
        km = Pairs.build(world, self.first, np.full(len(self.first), o), 0).distance_km
        near = np.flatnonzero(km <= self.widest)
        lens = self.count[near]
        rows = self.order[_ranges(self.start[near], lens)]
        dist = np.repeat(km[near], lens)
        keep = dist <= world.participants.max_commute_km[rows]
        return rows[keep], dist[keep]


class Index:
    """Blocking for one World, in both directions: every candidate pair passes every
    constraint in CONSTRAINTS, and every pair that passes them is a candidate.

    - participant → openings: participants fall in groups with the same candidates: the same
      home point (homes share postal-code points; the employer view puts a whole area at its
      centre), the same commute limit, and the same opening classes (OPENING_KEYS) passing
      the other constraints for them. A group's list (openings by row, with distances) is
      made once from its point's openings: one BallTree over the openings eligible that day
      (open, deadline not passed), queried once per point with the largest limit anyone
      there has, and one distance per (point, opening), which everyone at the point shares.
      Points and groups are kept (`_Memo`, bounded): a national shard's ~1,000 participants
      fall in a few hundred groups at ~15 points, and the batch asks in runs of 128. On the
      national sample of 36 shards (57.6M pairs in both views) this takes 1.0 CPU s, against
      4.6 s filtering every participant's point's hits, call by call (session 23,
      `benchmarks/shard_cpu.py`).
    - opening → participants: participants by home point (`_Homes`, built on first use: the
      batch never asks); the opening's distance to every distinct point, each point's
      participants kept within their own limit.

    The radius searches only pre-filter; the constraints decide (`passes` for an opening's
    candidates; for a participant's, `within_commute` on each pair as declared and the others
    through OPENING_KEYS). Get it with `index(world)`: built once per World and reused by
    every batch shard and live request on it."""

    def __init__(self, world: World, memo_bytes: int = MEMO_BYTES):
        self.world = world
        self._memo = _Memo(memo_bytes)

    def for_participants(self, p_idx, as_of: dt.date, kind: str = "any") -> Pairs:
        """Candidate pairs of these participants (kind: "any", "job" or "trial"): each
        participant's in the order given, each participant's openings by row."""
        world, day = self.world, as_of.toordinal()
        p_idx = np.asarray(p_idx, dtype=np.int64)
        elig = _opening_tree(world, day)  # built on the first call of a day, even for no participants
        if elig.tree is None or len(p_idx) == 0:
            return Pairs.build(world, [], [], day)
        if len(p_idx) > CHUNK:  # bounds the per-call arrays (the class table, the group keys)
            return Pairs.concat([self.for_participants(p_idx[a : a + CHUNK], as_of, kind) for a in range(0, len(p_idx), CHUNK)])
        # Participants at the same point, with the same limit, for whom the same opening classes
        # pass every other constraint have the same candidates: a group, whose list is made
        # once (and kept: a shard's participants fall in a few hundred groups).
        point = self._points[0][p_idx]
        limit = world.participants.max_commute_km[p_idx]
        accept = self._accepts(p_idx, elig.rep, day, kind)
        keys = np.column_stack([point, limit.view(np.int64), np.packbits(accept, axis=1).astype(np.int64)])
        groups, one, group_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        lists: list[Any] = [self._memo.get(("group", day, *key)) for key in map(tuple, groups.tolist())]
        todo = [g for g, found in enumerate(lists) if found is None]
        if todo:
            near = self._near_points(groups[todo, 0].tolist(), elig, day)
            for g in todo:
                j = one[g]
                rows, km, cls = near[groups[g, 0]]
                keep = km <= limit[j]  # `within_commute`, as it states it
                if not accept[j].all():
                    keep &= accept[j][cls]
                made = lists[g] = rows[keep], km[keep]
                self._memo.put(("group", day, *groups[g].tolist()), made, made[0].nbytes + made[1].nbytes)
        mine: list[tuple[np.ndarray, np.ndarray]] = [lists[g] for g in np.asarray(group_of).reshape(-1).tolist()]
        o = np.concatenate([rows for rows, _ in mine])
        pairs = Pairs(world, np.repeat(p_idx, [len(rows) for rows, _ in mine]), o, np.full(len(o), day, dtype=np.int64))
        pairs.__dict__["distance_km"] = np.concatenate([km for _, km in mine])  # the bits `Pairs` computes
        return pairs

    def _accepts(self, p_idx: np.ndarray, rep: np.ndarray, day: int, kind: str) -> np.ndarray:
        """(participants x opening classes): whether every constraint but `within_commute`
        passes for the class's representative opening (and, for a kind, the class is of it)."""
        n, n_cls = len(p_idx), len(rep)
        sample = Pairs.build(self.world, np.repeat(p_idx, n_cls), np.tile(rep, n), day)
        ok = np.ones(len(sample), dtype=bool)
        for c in CONSTRAINTS:
            if c.name != "within_commute":
                ok &= c.check(sample)
        if kind != "any":
            ok &= self.world.openings.kind_code[sample.o] == GOALS.index(kind)
        return ok.reshape(n, n_cls)

    def _near_points(self, points: list[int], elig: _Eligible, day: int) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per home point: the eligible openings within reach of anyone there (the largest limit
        at that point) by row, their distances (`Pairs.distance_km`'s bits: the same inputs) and
        classes. One radius query for the points not kept from an earlier call."""
        out: dict[int, Any] = {q: self._memo.get(("point", day, q)) for q in points}
        todo = [q for q, found in out.items() if found is None]
        if todo:
            _, stand, reach = self._points
            pw, first = self.world.participants, stand[todo]
            assert elig.tree is not None
            radius = reach[todo] / EARTH_RADIUS_KM * SLACK
            hits = elig.tree.query_radius(np.column_stack([pw.rad_lat[first], pw.rad_lon[first]]), r=radius)
            for q, f, h in zip(todo, first.tolist(), hits):
                h.sort()  # by row: eligible rows are ascending
                rows = elig.rows[h]
                made = out[q] = rows, row_distance_km(self.world, np.full(len(h), f), rows), elig.cls[h]
                self._memo.put(("point", day, q), made, sum(a.nbytes for a in made))
        return out

    @cached_property
    def _points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each participant's home point (an id: equal coordinates, equal id); per point, a
        participant standing there and the largest commute limit there (km)."""
        pw = self.world.participants
        at = np.empty(len(pw), dtype=np.complex128)
        at.real, at.imag = pw.lat, pw.lon
        _, stand, point = np.unique(at, return_index=True, return_inverse=True)
        point = np.asarray(point, dtype=np.int64).reshape(-1)
        reach = np.zeros(len(stand))
        np.maximum.at(reach, point, pw.max_commute_km)
        return point, np.asarray(stand, dtype=np.int64), reach

    @cached_property
    def _homes(self) -> _Homes:
        return _Homes.of(self.world, self._points[0])

    def for_openings(self, o_idx, as_of: dt.date) -> Pairs:
        """Candidate pairs of these openings, each opening's in the order of `_Homes`."""
        world, day = self.world, as_of.toordinal()
        o_idx = np.asarray(o_idx, dtype=np.int64)
        if len(o_idx) == 0 or len(world.participants) == 0:
            return Pairs.build(world, [], [], day)
        homes = self._homes
        parts = [homes.within_commute(world, int(o)) for o in o_idx.tolist()]
        p = np.concatenate([rows for rows, _ in parts])
        pairs = Pairs.build(world, p, np.repeat(o_idx, [len(rows) for rows, _ in parts]), day)
        pairs.__dict__["distance_km"] = np.concatenate([km for _, km in parts])  # the bits `Pairs` computes
        return pairs.subset(passes(pairs))

    def warm(self, as_of: dt.date) -> None:
        """Build the tree and the homes now (a snapshot's), not in the first request that needs them."""
        _opening_tree(self.world, as_of.toordinal())
        self._points  # noqa: B018 - cached
        self._homes  # noqa: B018 - cached


def index(world: World) -> Index:
    """The World's blocking index (one per World; a view or another World has its own, sharing
    the openings' tree when it shares the openings)."""
    found = world.__dict__.get("_blocking")
    if found is None:
        found = world.__dict__["_blocking"] = Index(world)
    return found


def for_participants(world: World, p_idx, as_of: dt.date, kind: str = "any") -> Pairs:
    """`index(world).for_participants`."""
    return index(world).for_participants(p_idx, as_of, kind)


def for_openings(world: World, o_idx, as_of: dt.date) -> Pairs:
    """`index(world).for_openings`."""
    return index(world).for_openings(o_idx, as_of)
