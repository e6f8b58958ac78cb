"""Candidate pairs as index arrays into a World, with shared per-pair quantities."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from matching.taxonomy.places import haversine_km
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

    def subset(self, mask: np.ndarray) -> Pairs:
        out = Pairs(self.world, self.p[mask], self.o[mask], self.as_of[mask])
        if "distance_km" in self.__dict__:  # computed for the commute constraint: reuse it in scoring
            out.__dict__["distance_km"] = self.__dict__["distance_km"][mask]
        return out

    def pcol(self, name: str) -> np.ndarray:
        return self.world.participants.col(name)[self.p]

    def ocol(self, name: str) -> np.ndarray:
        return self.world.openings.col(name)[self.o]

    @cached_property
    def distance_km(self) -> np.ndarray:
        pw, ow = self.world.participants.frame, self.world.openings.frame
        return haversine_km(
            pw["lat"].to_numpy(float)[self.p], pw["lon"].to_numpy(float)[self.p],
            ow["lat"].to_numpy(float)[self.o], ow["lon"].to_numpy(float)[self.o],
        )
