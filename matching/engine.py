"""The matching facade: candidates → features → scores → top-K, in both directions.

Batch-first (implicit's shape): every call takes arrays of participant or opening rows, so
the nightly batch, a live request and a posted profile run the very same code, and a pair
scores identically whichever side asks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching import candidates
from matching.candidates import CONSTRAINTS
from matching.criteria import BY_NAME
from matching.features import FeatureSet, evaluate
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from matching.world import World


@dataclass(frozen=True)
class Scored:
    participant_id: str
    opening_id: str
    score: float
    raw_score: float
    explanation: dict[str, Any]


class UnknownId(KeyError):
    """An id that is not in the current snapshot."""


class MatchEngine:
    def __init__(self, world: World, model: ScoringModel, as_of: dt.date, index: Any = None):
        """`index`: a prebuilt live_index.LiveIndex for this world's openings (the API's
        snapshot); without one, candidates are blocked from scratch per call (the batch)."""
        self.world = world
        self.model = model
        self.as_of = as_of
        self.blocking = index if index is not None else candidates
        self.criteria = tuple(BY_NAME[c] for c in model.criteria)

    # ------------------------------------------------------------------ lookups
    def participant_index(self, participant_id: str) -> int:
        try:
            return self.world.participants.index[participant_id]
        except KeyError:
            raise UnknownId(participant_id) from None

    def opening_index(self, opening_id: str) -> int:
        try:
            return self.world.openings.index[opening_id]
        except KeyError:
            raise UnknownId(opening_id) from None

    # ------------------------------------------------------------------ scoring
    def score_pairs(self, pairs: Pairs) -> tuple[np.ndarray, np.ndarray, FeatureSet, np.ndarray]:
        fs = evaluate(pairs, self.criteria)
        contrib = self.model.contributions(fs.levels)
        raw = self.model.intercept + contrib.sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw)), raw, fs, contrib

    def _scored(self, pairs: Pairs, i: int, score, raw, fs: FeatureSet, contrib) -> Scored:
        values = fs.values_at(i)
        explanation = {
            "intercept": self.model.intercept,
            "features": {
                c.name: {"level": int(fs.levels[i, j]), "contribution": float(contrib[i, j]), "values": values[c.name]}
                for j, c in enumerate(self.criteria)
            },
        }
        return Scored(
            str(self.world.participants.ids[pairs.p[i]]), str(self.world.openings.ids[pairs.o[i]]),
            float(score[i]), float(raw[i]), explanation,
        )

    @staticmethod
    def top_k_indices(group: np.ndarray, other_ids: np.ndarray, score: np.ndarray, k: int) -> dict[int, np.ndarray]:
        """Pair indices of the top-k per group value, by score desc then id asc (deterministic ties)."""
        if len(group) == 0:
            return {}
        if k < len(score) and (group == group[0]).all():
            # One subject (a live request): sort only what can make the top k, ties at the cut included.
            kth = np.partition(score, len(score) - k)[len(score) - k]
            keep = np.flatnonzero(score >= kth)
            return {int(group[0]): keep[np.lexsort((other_ids[keep], -score[keep]))][:k]}
        order = np.lexsort((other_ids, -score, group))
        g_sorted = group[order]
        starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
        ends = np.r_[starts[1:], len(order)]
        return {int(g_sorted[s]): order[s:min(e, s + k)] for s, e in zip(starts, ends)}

    def _top_k(self, pairs: Pairs, group: np.ndarray, other_ids: np.ndarray, k: int,
               scored: tuple | None = None) -> dict[int, list[Scored]]:
        if len(pairs) == 0:
            return {}
        score, raw, fs, contrib = scored if scored is not None else self.score_pairs(pairs)
        top = self.top_k_indices(group, other_ids, score, k)
        # Explain the winners only: turning every candidate's values into Python objects cost
        # more than scoring them.
        win = np.concatenate(list(top.values()))
        sub, s, r, f, c = pairs.subset(win), score[win], raw[win], fs.take(win), contrib[win]
        out, start = {}, 0
        for g, idx in top.items():
            out[g] = [self._scored(sub, i, s, r, f, c) for i in range(start, start + len(idx))]
            start += len(idx)
        return out

    def score_listed(self, p_idx, o_idx) -> list[Scored]:
        """Full explanations for given pairs (in order), e.g. a merged list from the batch."""
        pairs = Pairs.build(self.world, p_idx, o_idx, self.as_of.toordinal())
        if len(pairs) == 0:
            return []
        score, raw, fs, contrib = self.score_pairs(pairs)
        return [self._scored(pairs, i, score, raw, fs, contrib) for i in range(len(pairs))]

    # ------------------------------------------------------------------ both directions
    def recommend(self, p_idx, kind: str = "any", k: int = 10) -> dict[int, list[Scored]]:
        """Participant rows → their top-k openings (only pairs that pass every hard constraint)."""
        pairs = self.blocking.for_participants(self.world, p_idx, self.as_of, kind)
        return self._top_k(pairs, pairs.p, self.world.openings.ids[pairs.o], k)

    def candidates(self, o_idx, k: int = 10) -> dict[int, list[Scored]]:
        """Opening rows → their top-k participants."""
        pairs = self.blocking.for_openings(self.world, o_idx, self.as_of)
        return self._top_k(pairs, pairs.o, self.world.participants.ids[pairs.p], k)

    def both_directions(self, p_idx, k: int) -> tuple[dict[int, list[Scored]], dict[int, list[tuple[int, float]]]]:
        """One shard of the batch: the candidate pairs of these participants, ranked both ways.

        The participant side is final and explained. The opening side is a partial top-k of
        (participant row, score) only: the caller merges shards and explains just the
        winners, instead of building explanations for every shard's runners-up."""
        pairs = candidates.for_participants(self.world, p_idx, self.as_of, "any")
        if len(pairs) == 0:
            return {}, {}
        scored = self.score_pairs(pairs)
        p2o = self._top_k(pairs, pairs.p, self.world.openings.ids[pairs.o], k, scored)
        top = self.top_k_indices(pairs.o, self.world.participants.ids[pairs.p], scored[0], k)
        o2p = {o: [(int(pairs.p[i]), float(scored[0][i])) for i in idx] for o, idx in top.items()}
        return p2o, o2p

    def explain_pair(self, p: int, o: int, lang: str = "nb") -> dict[str, Any]:
        """Every feature's level and contribution for one pair, and any hard constraint it fails."""
        pairs = Pairs.build(self.world, [p], [o], self.as_of.toordinal())
        score, raw, fs, contrib = self.score_pairs(pairs)
        scored = self._scored(pairs, 0, score, raw, fs, contrib)
        failed = candidates.failures(pairs, 0, lang)
        return {
            "participant_id": scored.participant_id,
            "opening_id": scored.opening_id,
            "eligible": not failed,
            "failed_constraints": failed,
            "score": scored.score,
            "raw_score": scored.raw_score,
            "intercept": self.model.intercept,
            "explanation": scored.explanation,
            "constraints": [{"constraint": c.name, "description": c.description} for c in CONSTRAINTS],
        }
