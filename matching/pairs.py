"""Candidate pairs as index arrays into a World, with shared per-pair quantities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from matching.taxonomy.places import EARTH_RADIUS_KM
from matching.world import World


@dataclass
class Pairs:
    world: World
    p: np.ndarray  # participant row indices
    o: np.ndarray  # opening row indices
    as_of: np.ndarray  # date ordinal per pair: "today" for ranking, event time for training

    def __len__(self) -> int:
        return len(self.p)

    @classmethod
    def build(cls, world: World, p, o, as_of) -> Pairs:
        p = np.asarray(p, dtype=np.int64)
        o = np.asarray(o, dtype=np.int64)
        as_of_arr = np.broadcast_to(np.asarray(as_of, dtype=np.int64), p.shape).copy()
        return cls(world, p, o, as_of_arr)

    @classmethod
    def concat(cls, parts: list[Pairs]) -> Pairs:
        out = cls(parts[0].world, *(np.concatenate([getattr(x, f) for x in parts]) for f in ("p", "o", "as_of")))
        if all("distance_km" in x.__dict__ for x in parts):
            out.__dict__["distance_km"] = np.concatenate([x.distance_km for x in parts])
        return out

    def subset(self, mask: np.ndarray) -> Pairs:
        out = Pairs(self.world, self.p[mask], self.o[mask], self.as_of[mask])
        if "distance_km" in self.__dict__:  # computed for blocking already: keep it for scoring
            out.__dict__["distance_km"] = self.distance_km[mask]
        return out

    def pcol(self, name: str) -> np.ndarray:
        return self.world.participants.col(name)[self.p]

    def ocol(self, name: str) -> np.ndarray:
        return self.world.openings.col(name)[self.o]

    @cached_property
    def distance_km(self) -> np.ndarray:
        """`haversine_km`, term for term (the same bits), with the per-entity radians and
        cosines computed once per snapshot instead of once per pair."""
        return row_distance_km(self.world, self.p, self.o)


def row_distance_km(world: World, p: np.ndarray, o: np.ndarray) -> np.ndarray:
    """`Pairs(world, p, o, …).distance_km`: the same bits for the same rows, whichever pairs
    they come in (blocking computes one distance per home point and opening, and hands it to
    every participant at that point)."""
    pw, ow = world.participants, world.openings
    a = np.sin((ow.rad_lat[o] - pw.rad_lat[p]) / 2) ** 2 + pw.cos_lat[p] * ow.cos_lat[o] * np.sin((ow.rad_lon[o] - pw.rad_lon[p]) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
