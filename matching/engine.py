"""The matching facade: candidates → features → scores → top-K, in both directions.

Batch-first (implicit's shape): every call takes arrays of participant or opening rows, so
the nightly batch, a live request and a posted profile run the very same code.

Two views of one snapshot. A participant's list (adviser-facing) is scored on the World as
it is. An opening's candidates (employer-facing: liaison staff) are scored on
`World.employer_view`, where participants stand at the centre of their home area and the
adaptation criterion is not assessed for those who did not consent to share their needs.
A pair therefore scores the same from both sides when the participant consented and lives
at their area's centre; otherwise the employer-facing score is, by construction, the one
that cannot reveal needs or pin down a home.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching import candidates, features, topk
from matching.candidates import CONSTRAINTS
from matching.criteria import BY_NAME
from matching.explain import Explanation, FeatureExplanation
from matching.features import FeatureSet, evaluate
from matching.pairs import Pairs
from matching.scoring import ScoringModel
from matching.topk import Ranked, top_k
from matching.world import World

#: The criteria whose levels differ between the World and its employer view (they read the
#: participant's location or adaptation needs); the batch evaluates the others once per pair
#: for both sides. tests/test_topk.py::test_only_the_declared_criteria_depend_on_the_view checks it.
VIEW_DEPENDENT = ("distance", "distance_quarters", "adaptation")
#: The criteria the batch evaluates last, only for the pairs that can still make a list on
#: either side (`_levels_both_views`): costly (skills: a third of the levels' CPU) and narrow
#: (together they move a raw score by less than 0.25), so bounds without them are tight.
BATCH_LATE = ("experience", "skills", "likely_skills")
#: Candidate pairs scored at once by the batch (memory ~200 B a pair at the peak).
MAX_PAIRS = 1_000_000
#: Participants whose candidates are generated at once (then gathered up to MAX_PAIRS).
CANDIDATE_BATCH = 128
#: A live list (one subject) with at least this many candidate pairs is pruned before it is
#: scored in full (`_may_list`); below it every candidate is scored.
PRUNE_MIN = 4_000
#: The pruning's stages, cheap and telling first: a stage's levels are computed only for the
#: pairs whose score can still reach the list after the stages before. None: every criterion
#: of the model not named in another stage.
PRUNE_STAGES: tuple[tuple[str, ...] | None, ...] = (("occupation",), None, ("experience", "skills", "likely_skills"))
#: Pairs scored in full to set the pruning's bar: at least this many, and 16 per listed entry.
PRUNE_PROBE = 256
#: Slack on a bound (raw score units): the bound and the score add the same contributions in
#: another order, which may differ in the last bits.
BOUND_SLACK = 1e-9


@dataclass(frozen=True)
class Scored:
    participant_id: str
    opening_id: str
    score: float
    raw_score: float
    explanation: Explanation


def _concat(parts: list[Pairs], world: World, as_of: dt.date) -> Pairs:
    if not parts:
        return Pairs.build(world, [], [], as_of.toordinal())
    return parts[0] if len(parts) == 1 else Pairs.concat(parts)


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)``, with a stable sort: the batch's keys come as
    two sorted runs (blocking lists each participant's openings in order), which it merges
    in linear time instead of sorting from scratch."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    inv = np.empty(len(keys), dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    return ranked[new], inv


def _union(kw: np.ndarray, ke: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For two strictly increasing key arrays (the batch's two sides: blocking lists each
    participant's openings in order): (the positions in `ke` of the keys not in `kw`, and each
    `ke` entry's row in ``kw`` followed by those keys). One stable sort of the two runs (a
    linear merge) gives each `ke` key's count of `kw` keys up to it, so whether the last of
    those is the same key; no scatter, and `kw`'s rows stay where they are (nothing gathered
    for them, no keys decoded)."""
    nw, ne = len(kw), len(ke)
    order = np.argsort(np.concatenate([kw, ke]), kind="stable")
    at = np.flatnonzero(order >= nw)  # ke's entries in the merge, in ke's order (the sort is stable)
    prev = at - np.arange(ne) - 1  # the last kw key <= each ke key (-1: none); kw's come first on ties
    hit = kw[np.maximum(prev, 0)] == ke if nw else np.zeros(ne, dtype=bool)
    hit &= prev >= 0
    miss = ~hit
    return np.flatnonzero(miss), np.where(hit, prev, nw - 1 + np.cumsum(miss))


@dataclass(frozen=True)
class Listed:
    """One subject's ranked pairs, best first, scored but not yet explained (`MatchEngine.listed`)."""

    engine: MatchEngine
    pairs: Pairs
    score: np.ndarray
    raw: np.ndarray
    features: FeatureSet
    contrib: np.ndarray

    def __len__(self) -> int:
        return len(self.pairs)

    def opening_rows(self) -> np.ndarray:
        return self.pairs.o

    def explain(self, rows: list[int]) -> list[Scored]:
        """These entries (positions in the list), scored and explained exactly as
        `MatchEngine.recommend` explains them: the values for these pairs only."""
        idx = np.asarray(rows, dtype=np.int64)
        sub, fs = self.pairs.subset(idx), self.features.take(idx)
        s, r, c = self.score[idx], self.raw[idx], self.contrib[idx]
        return [self.engine._scored(sub, i, s, r, fs, c) for i in range(len(idx))]


class UnknownId(KeyError):
    """An id that is not in the current snapshot."""


class MatchEngine:
    def __init__(self, world: World, model: ScoringModel, as_of: dt.date, index: candidates.Index | None = None):
        """`index`: a prebuilt candidates.Index (the API's snapshot); used when it is this
        world's, otherwise this world's own is (`candidates.index`: a posted profile's world
        shares the snapshot's openings, and with them their tree)."""
        self.world = world
        self.model = model
        self.as_of = as_of
        self.blocking = index if index is not None and index.world is world else candidates.index(world)
        self.criteria = tuple(BY_NAME[c] for c in model.criteria)

    @property
    def employer(self) -> MatchEngine:
        """The same engine on the employer-facing view (opening → candidates)."""
        view = self.__dict__.get("_employer")
        if view is None:
            view = MatchEngine(self.world.employer_view, self.model, self.as_of)
            view.__dict__["_employer"] = view
            self.__dict__["_employer"] = view
        return view

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
        raw = self.model.raw_from(contrib)
        return self.model.sigmoid(raw), raw, fs, contrib

    def _scored(self, pairs: Pairs, i: int, score, raw, fs: FeatureSet, contrib) -> Scored:
        values = fs.values_at(i)
        explanation = Explanation(
            self.model.intercept,
            {c.name: FeatureExplanation(int(fs.levels[i, j]), float(contrib[i, j]), values[c.name]) for j, c in enumerate(self.criteria)},
            self.model.weak_below,
        )
        return Scored(
            str(self.world.participants.ids[pairs.p[i]]),
            str(self.world.openings.ids[pairs.o[i]]),
            float(score[i]),
            float(raw[i]),
            explanation,
        )

    def _may_list(self, pairs: Pairs, k: int) -> np.ndarray:
        """Indices of the pairs (all of one subject) that can be among its k best; every other
        pair is shown-score-worse than k of these, so the top k of these is the top k of all.

        Criteria are evaluated in stages (PRUNE_STAGES). After a stage, a pair's score is at
        most its contributions so far plus every later criterion's largest contribution; the
        bar is the k-th best shown score of a probe (the pairs with the best bounds after the
        first stage, scored in full), and a pair whose bound is below the bar is dropped —
        strictly worse than k probed pairs, so ties at the cut are kept. Levels come from the
        criteria themselves (the same functions on fewer pairs), so the list is the one
        scoring every pair gives (tests/test_live.py)."""
        model, crit = self.model, self.criteria
        names = [c.name for c in crit]
        named = {name for stage in PRUNE_STAGES if stage for name in stage}
        stages = [
            cols
            for stage in PRUNE_STAGES
            if (cols := [j for j, name in enumerate(names) if (name in stage if stage is not None else name not in named)])
        ]
        best = [float(w.max()) for w in model.lookup]
        rest = float(sum(best))
        partial = np.zeros(len(pairs))
        alive = np.arange(len(pairs))
        probe: np.ndarray | None = None
        bar = -np.inf
        for cols in stages:
            sub = pairs.subset(alive)
            for j in cols:
                partial[alive] += model.lookup[j][crit[j].level(sub)]
                rest -= best[j]
            bound = model.intercept + partial[alive] + rest
            if probe is None:
                m = max(16 * k, PRUNE_PROBE)
                probe = alive if m >= len(alive) else alive[np.argpartition(-bound, m - 1)[:m]]
                if len(probe) <= k:
                    return np.arange(len(pairs))
                shown = topk.shown(self.model.score(features.levels(pairs.subset(probe), crit)))
                bar = float(np.partition(shown, len(shown) - k)[len(shown) - k])
            alive = alive[topk.shown(model.sigmoid(bound + BOUND_SLACK)) >= bar]
        assert probe is not None
        return np.union1d(probe, alive)

    def _winners(self, pairs: Pairs, group: np.ndarray, tie: np.ndarray, k: int) -> tuple[Listed, np.ndarray]:
        """Each group's best k pairs (topk.top_k: shown score desc, then the other side's
        tie_rank), scored but not explained, and their groups."""
        if len(pairs) >= PRUNE_MIN and k > 0 and group[0] == group[-1] and (group == group[0]).all():
            keep = self._may_list(pairs, k)  # one subject (a live list): score only what can make it
            pairs, group, tie = pairs.subset(keep), group[keep], tie[keep]
        if len(pairs) == 0:
            empty = Listed(self, pairs, np.zeros(0), np.zeros(0), evaluate(pairs, self.criteria), np.zeros((0, len(self.criteria))))
            return empty, group
        score, raw, fs, contrib = self.score_pairs(pairs)
        win = top_k(group, topk.shown(score), tie, k)
        return Listed(self, pairs.subset(win), score[win], raw[win], fs.take(win), contrib[win]), group[win]

    def _top_k(self, pairs: Pairs, group: np.ndarray, tie: np.ndarray, k: int) -> dict[int, list[Scored]]:
        """Each group's best k pairs, explained. Explain the winners only: turning every
        candidate's values into Python objects cost more than scoring them."""
        if len(pairs) == 0:
            return {}
        won, g = self._winners(pairs, group, tie, k)
        if len(g) == 0:  # k = 0
            return {}
        items = won.explain(list(range(len(g))))
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        return {int(g[a]): items[a:b] for a, b in zip(starts, np.r_[starts[1:], len(g)])}

    def listed(self, p: int, kind: str = "any", k: int = 10) -> Listed:
        """One participant's best k openings, as `recommend` ranks them, explained only on
        demand (`Listed.explain`): a live list groups similar openings and shows ~10 entries
        of the K it ranks, and explaining all K was a third of its CPU."""
        pairs = self.blocking.for_participants(np.array([p]), self.as_of, kind)
        return self._winners(pairs, pairs.p, self.world.openings.tie_rank[pairs.o], k)[0]

    # ------------------------------------------------------------------ both directions
    def recommend(self, p_idx, kind: str = "any", k: int = 10) -> dict[int, list[Scored]]:
        """Participant rows → their top-k openings (only pairs that pass every hard constraint)."""
        pairs = self.blocking.for_participants(p_idx, self.as_of, kind)
        return self._top_k(pairs, pairs.p, self.world.openings.tie_rank[pairs.o], k)

    def candidates(self, o_idx, k: int = 10) -> dict[int, list[Scored]]:
        """Opening rows → their top-k participants, scored on the employer-facing view."""
        emp = self.employer
        pairs = emp.blocking.for_openings(o_idx, self.as_of)
        return emp._top_k(pairs, pairs.o, emp.world.participants.tie_rank[pairs.p], k)

    def both_directions(
        self, p_idx, k: int, max_pairs: int = MAX_PAIRS, candidate_batch: int = CANDIDATE_BATCH
    ) -> tuple[Ranked, Ranked, int]:
        """One shard of the batch: these participants' candidate pairs, ranked both ways.

        Plain arrays, no per-pair Python: the participant side (scored on the World) is final,
        the opening side (scored on the employer view, see the module docstring) a partial
        top-k the caller merges across shards. Reasons are not rendered here; the stored
        levels are enough to render them when a list is read (`explanations`). The third
        value is the number of candidate pairs scored for the participant side. Pairs are
        scored in chunks of whole participants of at most about `max_pairs`, which bounds
        memory (~200 B a pair) however dense the area."""
        emp, w = self.employer, self.world
        p_idx = np.asarray(p_idx, dtype=np.int64)
        p_parts: list[Ranked] = []
        o_parts: list[Ranked] = []
        mine: list[Pairs] = []  # the participant side's pairs (the World)
        theirs: list[Pairs] = []  # the opening side's pairs (the employer view)
        n_scored = 0

        def flush() -> None:
            if not mine and not theirs:
                return
            pw, pe = (_concat(buf, world, self.as_of) for buf, world in ((mine, w), (theirs, emp.world)))
            mine.clear()
            theirs.clear()
            pw, pe, lw, le = self._levels_both_views(pw, pe, k)
            sw, se = self.model.score(lw), self.model.score(le)
            sel = top_k(pw.p, topk.shown(sw), w.openings.tie_rank[pw.o], k)
            p_parts.append(Ranked(pw.p[sel], pw.o[sel], sw[sel], np.ascontiguousarray(lw[sel])))
            sel = top_k(pe.o, topk.shown(se), w.participants.tie_rank[pe.p], k)
            o_parts.append(Ranked(pe.o[sel], pe.p[sel], se[sel], np.ascontiguousarray(le[sel])))
            if sum(len(r) for r in o_parts) > max_pairs:  # the opening side, merged as it grows
                o_parts[:] = [topk.best(Ranked.concat(o_parts), w.participants.tie_rank, k)]

        # Candidates for a few participants at a time: a dense area yields thousands of pairs each.
        for a in range(0, len(p_idx), candidate_batch):
            batch = p_idx[a : a + candidate_batch]
            pw, pe = self.blocking.for_participants(batch, self.as_of, "any"), emp.blocking.for_participants(batch, self.as_of, "any")
            if max(sum(len(b) for b in mine) + len(pw), sum(len(b) for b in theirs) + len(pe)) > max_pairs:
                flush()
            if len(pw):
                mine.append(pw)
                n_scored += len(pw)
            if len(pe):
                theirs.append(pe)
        flush()
        empty = Ranked.empty(len(self.criteria))
        p2o = empty if not p_parts else p_parts[0] if len(p_parts) == 1 else Ranked.concat(p_parts)
        o2p = empty if not o_parts else o_parts[0] if len(o_parts) == 1 else Ranked.concat(o_parts)
        return p2o, o2p, n_scored

    def _levels_both_views(self, pw: Pairs, pe: Pairs, k: int | None = None) -> tuple[Pairs, Pairs, np.ndarray, np.ndarray]:
        """Levels of the participant side's pairs (on the World) and of the opening side's (on
        the employer view). Most pairs are on both sides, and only the criteria in
        VIEW_DEPENDENT read what the views differ in (location, needs): every other criterion
        is evaluated once per distinct pair for both (tests/test_topk.py checks the lists equal
        scoring each side on its own).

        With k, pairs that cannot make their list are dropped before the BATCH_LATE criteria
        are evaluated: the others bound each pair's score (their smallest and largest
        contributions), and a pair whose upper bound is below its group's k-th best lower
        bound, on its own side (`topk.may_reach`: participant side by participant, opening side
        by opening), is left out of that side. Returns the pairs kept on each side and their
        levels; their top k is that of every pair (tests/test_topk.py)."""
        crit, model = self.criteria, self.model
        late = [j for j, c in enumerate(crit) if c.name in BATCH_LATE] if k else []
        # Criteria that read the opening only: one level per opening (`_opening_levels`).
        by_opening = [j for j, c in enumerate(crit) if c.opening_only and c.name not in VIEW_DEPENDENT and j not in late]
        early = [j for j, c in enumerate(crit) if c.name not in VIEW_DEPENDENT and j not in late and j not in by_opening]
        n_o = max(len(self.world.openings), 1)
        kw, ke = pw.p * n_o + pw.o, pe.p * n_o + pe.o
        if (kw[1:] > kw[:-1]).all() and (ke[1:] > ke[:-1]).all():  # as blocking lists them
            extra, ie = _union(kw, ke)
            iw = np.arange(len(kw))
            p, o = np.concatenate([pw.p, pe.p[extra]]), np.concatenate([pw.o, pe.o[extra]])
            union = Pairs(self.world, p, o, np.full(len(p), self.as_of.toordinal(), dtype=np.int64))
        else:
            keys, inv = _distinct(np.concatenate([kw, ke]))
            iw, ie = inv[: len(kw)], inv[len(kw) :]
            union = Pairs.build(self.world, keys // n_o, keys % n_o, self.as_of.toordinal())
        shared = np.zeros((len(union), len(crit)), dtype=np.uint8, order="F")
        for j in early:
            shared[:, j] = crit[j].level(union)
        # The view-dependent criteria's levels on each side's own pairs.
        own = {
            j: (c.level(pw).astype(np.uint8), c.level(pe).astype(np.uint8))
            for j, c in enumerate(crit)
            if c.name in VIEW_DEPENDENT and j not in late
        }
        if late:
            assert k is not None
            lookup = model.lookup
            hi = float(sum(lookup[j].max() for j in late)) + BOUND_SLACK
            lo = float(sum(lookup[j].min() for j in late)) - BOUND_SLACK
            # The shared criteria's contributions once per distinct pair, not once per side;
            # those of the criteria that read the opening only, summed once per opening.
            base = np.full(len(union), model.intercept)
            if by_opening:
                base += self._opening_contributions(by_opening)[union.o]
            for j in early:
                base += lookup[j][shared[:, j]]

            def reach(side: int, at: np.ndarray, group: np.ndarray) -> np.ndarray:
                partial = base[at]
                for j, levels in own.items():
                    partial += lookup[j][levels[side]]
                return topk.may_reach(group, partial, lo, hi, k, model.sigmoid, model.logit)

            keep_w, keep_e = np.flatnonzero(reach(0, iw, pw.p)), np.flatnonzero(reach(1, ie, pe.o))
            iw, ie = iw[keep_w], ie[keep_e]
            need = np.zeros(len(union), dtype=bool)
            need[iw] = True
            need[ie] = True
            rows = np.flatnonzero(need)
            sub = union.subset(rows)
            for j in late:
                if crit[j].name not in VIEW_DEPENDENT:
                    shared[rows, j] = crit[j].level(sub)
            pw, pe = pw.subset(keep_w), pe.subset(keep_e)
            own = {j: (w_[keep_w], e_[keep_e]) for j, (w_, e_) in own.items()}
            for j in late:
                if crit[j].name in VIEW_DEPENDENT:
                    own[j] = (crit[j].level(pw).astype(np.uint8), crit[j].level(pe).astype(np.uint8))
        # Each side's levels gathered once, for the pairs kept only, column by column (np.take
        # into the column-major result: a fifth of a row gather's time, then a transposing copy).
        lw, le = (np.empty((len(at), len(crit)), dtype=np.uint8, order="F") for at in (iw, ie))
        for j in range(len(crit)):
            if j in own:
                lw[:, j], le[:, j] = own[j]
            elif j in by_opening:
                levels = self._opening_levels(j)
                np.take(levels, pw.o, out=lw[:, j])
                np.take(levels, pe.o, out=le[:, j])
            else:
                np.take(shared[:, j], iw, out=lw[:, j])
                np.take(shared[:, j], ie, out=le[:, j])
        return pw, pe, lw, le

    def _opening_levels(self, j: int) -> np.ndarray:
        """Every opening's level of criterion j, one that reads the opening only
        (`Criterion.opening_only`): the same function on one pair per opening, so each pair's
        level is the one it computes for the pair. Kept with the openings (both views and every
        shard's engine share them) per criterion, for the latest day asked only (as the
        openings' tree, `candidates._opening_tree`: a long-lived snapshot never piles up days)."""
        c, day = self.criteria[j], self.as_of.toordinal()
        held = self.world.openings.__dict__.get("_opening_levels")
        if held is None or held[0] != day:
            held = (day, {})
            self.world.openings.__dict__["_opening_levels"] = held  # replaced whole: threads may read it
        cache: dict[str, np.ndarray] = held[1]
        if c.name not in cache:
            n = len(self.world.openings)
            pairs = Pairs.build(self.world, np.zeros(n, dtype=np.int64), np.arange(n), day)
            cache[c.name] = np.asarray(c.level(pairs), dtype=np.uint8)
        return cache[c.name]

    def _opening_contributions(self, cols: list[int]) -> np.ndarray:
        """Every opening's summed contribution of these `opening_only` criteria (for bounds)."""
        cache = self.__dict__.setdefault("_by_opening_sum", {})
        key = tuple(cols)
        if key not in cache:
            total = np.zeros(len(self.world.openings))
            for j in cols:
                total += self.model.lookup[j][self._opening_levels(j)]
            cache[key] = total
        return cache[key]

    def explanations(self, p_idx, o_idx, levels: np.ndarray, model: ScoringModel | None = None) -> list[Explanation]:
        """Explanations of stored pairs: the levels (and so the contributions) the run scored,
        with the values the reasons quote taken from today's data."""
        model = model or self.model
        criteria = tuple(BY_NAME[c] for c in model.criteria)
        pairs = Pairs.build(self.world, p_idx, o_idx, self.as_of.toordinal())
        if len(pairs) == 0:
            return []
        levels = np.asarray(levels, dtype=np.int64)
        values = FeatureSet(criteria, levels, pairs).values_at  # the stored levels; values for these pairs only
        contrib = model.contributions(levels)
        return [
            Explanation(
                model.intercept,
                {c.name: FeatureExplanation(int(levels[i, j]), float(contrib[i, j]), vals[c.name]) for j, c in enumerate(criteria)},
                model.weak_below,
            )
            for i, vals in ((i, values(i)) for i in range(len(pairs)))
        ]

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
