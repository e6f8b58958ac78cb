"""Scarce places (issue 14): congestion figures, and the *recommended now* lists.

Personal lists rank each participant alone, so one good trial placement with one free place
can top forty lists in the same office. This module measures that (`congestion`) and builds,
after ranking, a *recommended now* list per participant that takes the shared places into
account. Participants keep their personal ranking; the recommended-now list is a second view of
the same run. Two formulations (setting `alloc_mode`):

**"price" (the default), `price_allocate`** — as ReCon (Mashayekhi et al., RecSys 2022) and
Bied et al. (2023): every list stays full-length wherever the participant has enough openings
with room, drawn from the first `alloc_depth` of the personal list, and congestion is priced
rather than cut. An opening with no room now (`held_back`: at most `alloc_hold_at` free places,
or places not spoken for, by `alloc_hold_basis`) is in no list at all: the list is refilled
from deeper, and is short or empty — "nothing with room nearby now" (`room_state`) — only where
nothing with room is left within the depth. An opening's *expected starts* are the
calibrated start probabilities (shown score × the history's starts per suggestion over the mean
shown score, `start_scale`) of the lists whose first `alloc_head` places hold it, weighted by
place (`attention`, the DCG discount); above `alloc_start_factor` × free places its price rises
(ascending, so the rounds settle). Each participant's list head (its first `alloc_head`
places) is their pairs of highest score × (1 − `alloc_strength` × price) — `alloc_full_strength`
on an opening with no free place at all, or every free place spoken for — and with `alloc_tail` "personal" (the default) the
rest of the list keeps the personal order among the pairs left: a congested opening moves down
the list, not out of it, and gives its head place to the next best one of their own ranking.
With room for everyone the list is the personal top. A guard keeps the personal lists wherever
the prices would leave the heads with fewer expected starts than they have (the weaker
monotonicity the mode satisfies: see tests/test_allocation.py). Measured on the behavioural
simulation (benchmarks/allocation.py, settings tuned on seeds 11–13 and reported on 1–3): see
benchmarks/RESULTS.md.

**"flow", `allocate`** — each opening in at most ``c × free places`` lists (c =
`alloc_factor`), each employer in at most as many as it has contacts left, maximising the sum of
the model's probabilities over the recommended pairs. Lists are cut by capacity, which costs
25–65 % NDCG@10 against the personal list (the measured reason the price formulation exists).

Formulation: a min-cost flow (source → participant, capacity `per_list`; participant →
opening, capacity 1, cost −value; opening → employer, capacity the opening's cap; employer →
sink, capacity the contacts left; plus a source → sink bypass at cost 0, so the flow maximises
value rather than the number of pairs). Solved by OR-Tools' `SimpleMinCostFlow` — exact
integer costs, and measured fastest (benchmarks/allocation.py `--solvers`; scipy's HiGHS `milp`
on the same LP was slower, see benchmarks/RESULTS.md). The value of a pair is lexicographic:
first its shown score in thousandths (what the lists are ranked by), then its personal rank
(better rank first), with a weight that makes the rank term smaller than one thousandth over
the whole shard. So with room for everyone each participant gets exactly the top `per_list`
of the personal list, and the score total is maximised exactly, not up to solver tolerances.

Only pairs of the personal top-K lists are considered: they passed every hard constraint, so
the allocation never recommends a pair that fails one.

Sharding: the batch allocates per participant office, in both modes, on the batch's backend
like the ranking shards (a shard is a pure function of arrays). Flow: `shard_tasks` splits each
opening's and employer's capacity across shards by D'Hondt over each shard's demand
(`split_capacity` — a house-monotone apportionment, so one more free place never takes a seat
from any shard, and with per-shard optima the total never drops). Price: `price_shard_tasks`
splits each opening's free places (its expected-starts capacity is fractional, 0.3 × 1 place)
in proportion to each shard's expected starts on it at price 0 (`split_share`), and each
employer's integer contacts by D'Hondt over the same weights; each shard then prices its own
openings' share (`run_price_shard`). Prices are per shard: an opening listed by two offices
may be priced differently in each, by the demand of each; so a second pass (`resplit`,
`price_shards`, setting `alloc_passes`) gives the share a shard left unused to the shards that
priced the opening, and runs only the shards whose shares changed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.messages import t

#: Recommended-now list length, and the depth of a personal list congestion counts ("top 10").
PER_LIST = 10
#: Default: an opening may be in at most CAP_FACTOR × free places recommended-now lists.
CAP_FACTOR = 3
#: An opening is congested when its top-10 exposure exceeds this many times its free places.
CONGESTED_AT = 5
#: Kept pairs whose opening has at most its cap of personal top-10 exposure: "few competitors".
UNLIMITED = np.iinfo(np.int64).max // 4


# ---------------------------------------------------------------------------- free places


def free_places(positions: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Positions (a trial placement: concurrent places) minus active trials / hires, ≥ 0."""
    return np.maximum(np.asarray(positions, dtype=np.int64) - np.asarray(taken, dtype=np.int64), 0)


def not_spoken_for(free: np.ndarray, in_flight: np.ndarray | None) -> np.ndarray:
    """Free places less those spoken for: the expected starts of the chains already in flight
    on each opening (`store.outcomes.in_flight`), fractional, ≥ 0 — what the priced
    allocation's capacity counts. `free` itself stays what people read."""
    free = np.asarray(free, dtype=float)
    if in_flight is None:
        return free
    return np.maximum(free - np.asarray(in_flight, dtype=float), 0.0)


def in_flight_figures(free: np.ndarray, in_flight: np.ndarray, eligible: np.ndarray) -> dict[str, Any]:
    """The run's chains in flight on the open openings (`eligible`): their expected starts,
    the openings they are on, and the free places they speak for (Σ min(free, expected))."""
    f, s = np.asarray(free, dtype=float)[eligible], np.asarray(in_flight, dtype=float)[eligible]
    return {
        "expected_starts": round(float(s.sum()), 3),
        "openings": int((s > 0).sum()),
        "places_spoken_for": round(float(np.minimum(f, s).sum()), 3),
    }


def caps(free: np.ndarray, factor: float = CAP_FACTOR) -> np.ndarray:
    """How many recommended-now lists each opening may be in: ⌊factor × free places⌋."""
    return np.floor(np.asarray(free, dtype=float) * factor).astype(np.int64)


# ---------------------------------------------------------------------------- congestion


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal; → 1: one has everything)."""
    x = np.sort(np.asarray(x, dtype=float))
    n, total = len(x), float(x.sum()) if len(x) else 0.0
    if n == 0 or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def exposure(other: np.ndarray, pos: np.ndarray, n_openings: int, top: int) -> np.ndarray:
    """Per opening: in how many lists it is at a position below `top` (0-based `pos`)."""
    return np.bincount(other[pos < top], minlength=n_openings)


def _gini_by(codes: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Gini coefficient of `x` within each group `codes` (0..n-1), vectorised."""
    out = np.zeros(n)
    if len(x) == 0:
        return out
    order = np.lexsort((x, codes))
    c, v = codes[order], np.asarray(x, dtype=float)[order]
    size = np.bincount(c, minlength=n)
    start = np.r_[0, np.cumsum(size)[:-1]]
    i = np.arange(len(c)) - start[c] + 1  # 1-based rank within the group
    total = np.bincount(c, weights=v, minlength=n)
    num = np.bincount(c, weights=(2 * i - size[c] - 1) * v, minlength=n)
    ok = (size > 0) & (total > 0)
    out[ok] = num[ok] / (size[ok] * total[ok])
    return out


def congestion(
    group: np.ndarray,
    other: np.ndarray,
    pos: np.ndarray,
    free: np.ndarray,
    eligible: np.ndarray,
    participant_office: np.ndarray,
    opening_office: np.ndarray,
) -> dict[str, Any]:
    """The issue's congestion figures over ranked lists (pairs `group` → `other` at 0-based
    rank `pos`), overall and per office: openings' figures by the opening's office,
    participants' by theirs. `eligible`: openings that could be listed (Gini's population).
    Vectorised over offices (one bincount per figure)."""
    group, other, pos = (np.asarray(a, dtype=np.int64) for a in (group, other, pos))
    n_o, n_p = len(free), len(participant_office)
    e3, e10 = exposure(other, pos, n_o, 3), exposure(other, pos, n_o, PER_LIST)
    listed = e10 > 0
    congested = listed & (e10 > CONGESTED_AT * free)
    top = pos < PER_LIST
    g = group[top]
    has = np.bincount(g, minlength=n_p) > 0
    only = has & ~(np.bincount(g[~congested[other[top]]], minlength=n_p) > 0)
    out: dict[str, Any] = {
        "openings_listed": int(listed.sum()),
        "openings_congested": int(congested.sum()),
        "share_openings_congested": round(float(congested.sum() / max(listed.sum(), 1)), 4),
        "participants_listed": int(has.sum()),
        "share_participants_only_congested": round(float(only.sum() / max(has.sum(), 1)), 4),
        "gini_exposure": round(gini(e10[eligible]), 4),
        "max_exposure_top10": int(e10.max()) if n_o else 0,
        "mean_exposure_top3": round(float(e3[listed].mean()), 3) if listed.any() else 0.0,
        "mean_exposure_top10": round(float(e10[listed].mean()), 3) if listed.any() else 0.0,
        "free_places": int(free[eligible].sum()),
    }
    names, codes = np.unique(
        np.r_[np.asarray(participant_office, dtype=object), np.asarray(opening_office, dtype=object)].astype(str), return_inverse=True
    )
    p_code, o_code = codes[:n_p], codes[n_p:]
    k = len(names)
    o_listed = np.bincount(o_code[listed], minlength=k)
    o_congested = np.bincount(o_code[congested], minlength=k)
    p_has = np.bincount(p_code[has], minlength=k)
    p_only = np.bincount(p_code[only], minlength=k)
    g_office = _gini_by(o_code[eligible], e10[eligible], k)
    out["offices"] = {
        str(name): {
            "openings_listed": int(o_listed[i]),
            "share_openings_congested": round(float(o_congested[i] / max(o_listed[i], 1)), 4),
            "gini_exposure": round(float(g_office[i]), 4),
            "participants_listed": int(p_has[i]),
            "share_participants_only_congested": round(float(p_only[i] / max(p_has[i], 1)), 4),
        }
        for i, name in enumerate(names)
    }
    return out


# ---------------------------------------------------------------------------- the allocation


def _solve_flow(
    group: np.ndarray,
    other: np.ndarray,
    value: np.ndarray,
    cap: np.ndarray,
    employer: np.ndarray | None,
    contacts: np.ndarray | None,
    per_list: int,
) -> np.ndarray:
    """Max-value b-matching as a min-cost flow (OR-Tools). Arrays are compact (0..n-1)."""
    from ortools.graph.python import min_cost_flow

    n_p = int(group.max()) + 1
    n_o = int(other.max()) + 1
    n_e = int(employer.max()) + 1 if employer is not None else 0
    source, sink = 0, 1
    p0, o0 = 2, 2 + n_p
    e0 = o0 + n_o
    supply = per_list * n_p
    # Capacities above what can flow are pointless (and must fit int64 sums).
    cap = np.minimum(cap, np.bincount(other, minlength=n_o))
    tails = [np.full(n_p, source), p0 + group, o0 + np.arange(n_o)]
    heads = [p0 + np.arange(n_p), o0 + other, (e0 + employer) if employer is not None else np.full(n_o, sink)]
    capacity = [np.full(n_p, per_list), np.ones(len(group), dtype=np.int64), cap]
    cost = [np.zeros(n_p, dtype=np.int64), -value, np.zeros(n_o, dtype=np.int64)]
    if employer is not None:
        assert contacts is not None
        tails.append(e0 + np.arange(n_e))
        heads.append(np.full(n_e, sink))
        capacity.append(np.minimum(contacts, supply))
        cost.append(np.zeros(n_e, dtype=np.int64))
    tails.append(np.array([source]))
    heads.append(np.array([sink]))
    capacity.append(np.array([supply]))
    cost.append(np.array([0]))
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(capacity).astype(np.int64),
        np.concatenate(cost).astype(np.int64),
    )
    supplies = np.zeros(e0 + n_e, dtype=np.int64)
    supplies[source], supplies[sink] = supply, -supply
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:  # pragma: no cover - the bypass arc makes every instance feasible
        raise RuntimeError(f"min-cost flow failed with status {status}")
    first = n_p
    return smcf.flows(arcs[first : first + len(group)]) > 0


def pair_values(score: np.ndarray, pos: np.ndarray, n_pairs_bound: int) -> np.ndarray:
    """Integer values: the shown score in thousandths first, then the personal rank (a better
    rank worth more), the rank term over all pairs below one thousandth. Every pair is worth
    at least 1, so a pair shown at score 0 still fills a free list place (hypothesis found a
    personal top that lost its last, 0-score, entry with room for everyone)."""
    span = int(pos.max()) + 1 if len(pos) else 1
    weight = n_pairs_bound * span + 1
    thousandths = np.rint(np.asarray(score, dtype=float) * 1000).astype(np.int64)
    return thousandths * weight + (span - np.asarray(pos, dtype=np.int64))


def allocate(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    cap: np.ndarray,
    *,
    per_list: int = PER_LIST,
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
) -> np.ndarray:
    """Which pairs of the personal lists go into the recommended-now lists (a bool mask).

    Pairs: participant `group`, opening `other` (row indices), shown `score`, 0-based personal
    rank `pos`. `cap[o]`: how many lists opening o may be in. `employer[o]` and
    `contacts_left[e]`: optionally, the employer of each opening and how many contacts each
    employer has left (default: unlimited). Maximises Σ score over the kept pairs, each
    participant keeping at most `per_list`; deterministic for given arrays."""
    group, other, pos = (np.asarray(a, dtype=np.int64) for a in (group, other, pos))
    keep = np.zeros(len(group), dtype=bool)
    if len(group) == 0 or per_list <= 0:
        return keep
    cap = np.asarray(cap, dtype=np.int64)
    pu, g = np.unique(group, return_inverse=True)
    ou, o = np.unique(other, return_inverse=True)
    emp = contacts = None
    if contacts_left is not None:
        if employer is None:
            raise ValueError("contacts_left needs the employer of each opening")
        eu, emp = np.unique(np.asarray(employer, dtype=np.int64)[ou], return_inverse=True)
        contacts = np.maximum(np.asarray(contacts_left, dtype=np.int64)[eu], 0)
    value = pair_values(score, pos, per_list * len(pu))
    useful = value > 0
    if not useful.all():
        sub = np.flatnonzero(useful)
        keep[sub] = allocate(
            group[sub], other[sub], score[sub], pos[sub], cap, per_list=per_list, employer=employer, contacts_left=contacts_left
        )
        return keep
    return _solve_flow(g, o, value, np.maximum(cap[ou], 0), emp, contacts, per_list)


# ---------------------------------------------------------------------------- congestion prices


def attention(n: int) -> np.ndarray:
    """Weight of list positions 0..n-1 in an opening's expected demand: the DCG discount
    1 / log2(rank + 2) — the same one NDCG@10 scores the lists with."""
    return 1.0 / np.log2(np.arange(n) + 2.0)


def start_scale(score: np.ndarray, pos: np.ndarray, start_rate: float | None) -> float:
    """Factor from a shown score to a start probability: the outcome history's share of
    suggestions that ended in a start, over the mean shown score of the personal top 10 (a
    one-parameter calibration of the scores to the starts they lead to). 1 without history."""
    top = np.asarray(pos) < PER_LIST
    if start_rate is None or not top.any():
        return 1.0
    return float(start_rate) / max(float(np.mean(np.asarray(score)[top])), 1e-9)


def _select(g: np.ndarray, value: np.ndarray, pos: np.ndarray, allowed: np.ndarray, per_list: int) -> tuple[np.ndarray, np.ndarray]:
    """Per participant the `per_list` allowed pairs of highest value (ties: personal rank):
    (the kept mask, each pair's 0-based place among its participant's pairs by value). One
    float sort key (participant, allowed, value, rank) — values are in [0, 1]."""
    key = g * 4.0 + np.where(allowed, 0.0, 2.0) + (1.0 - np.clip(value, 0.0, 1.0)) + pos * 1e-9
    order = np.argsort(key, kind="stable")
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    rank = np.arange(len(gs)) - np.repeat(starts, np.diff(np.r_[starts, len(gs)]))
    keep = np.zeros(len(g), dtype=bool)
    place = np.zeros(len(g), dtype=np.int64)
    keep[order] = (rank < per_list) & allowed[order]
    place[order] = rank
    return keep, place


def _select_list(
    g: np.ndarray, value: np.ndarray, score: np.ndarray, pos: np.ndarray, allowed: np.ndarray, per_list: int, head: int, tail: str
) -> tuple[np.ndarray, np.ndarray]:
    """A list's pairs and places. tail "priced": the `per_list` allowed pairs of highest
    priced value (`_select`). tail "personal": its first `head` places by priced value (what
    the prices are about: the places advisers act on now), the rest of the list in the
    personal order (shown score, ties by personal rank) among the pairs left — so an opening
    priced out of the head moves down the list, not out of it, as long as it is among the
    participant's `per_list` − `head` best remaining. The head, and so every opening's
    expected starts, are the same in both."""
    if tail == "priced" or per_list <= head:
        return _select(g, value, pos, allowed, per_list)
    keep_h, place_h = _select(g, value, pos, allowed, head)
    keep_t, place_t = _select(g, score, pos, allowed & ~keep_h, per_list - head)
    return keep_h | keep_t, np.where(keep_h, place_h, head + place_t)


def _prices(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    allowed: np.ndarray,
    prob: np.ndarray,
    capacity: np.ndarray,
    weigh: np.ndarray,
    *,
    per_list: int,
    head: int,
    rounds: int,
    step: float,
) -> np.ndarray:
    """`price_allocate`'s ascending tâtonnement: the price per opening after at most `rounds`
    rounds (each: every list's head by priced value, each opening's expected demand on the
    heads, prices raised by `step` × the share of demand above `capacity`, up to 1)."""
    n_o = len(capacity)
    price = np.zeros(n_o)
    weight = attention(per_list)
    # Round 0 (every price 0) selects by score; after it, only the lists that hold an opening
    # whose price rose can change, so only those are selected again. Each pair's contribution to
    # its opening's demand is kept (0 off the heads): one weighted bincount in pair order, the
    # same sums to the bit as over the head pairs alone.
    keep, place = _select(group, score, pos, allowed, per_list)
    contrib = np.where(keep & (place < head), prob * weight[np.minimum(place, per_list - 1)], 0.0)
    touched = np.zeros(int(group.max()) + 1, dtype=bool)
    moved = np.zeros(n_o, dtype=bool)  # openings whose price rose in the last round
    for r in range(rounds):
        if r:  # the lists holding a repriced opening (all of them while most are: no gathers then)
            touched[:] = False
            touched[group[moved[other]]] = True
            lists = touched[group]
            if 2 * np.count_nonzero(lists) > len(group):
                value = score * (1.0 - weigh[other] * price[other])
                keep, place = _select(group, value, pos, allowed, per_list)
                contrib = np.where(keep & (place < head), prob * weight[np.minimum(place, per_list - 1)], 0.0)
            else:
                idx = np.flatnonzero(lists)
                value = score[idx] * (1.0 - weigh[other[idx]] * price[other[idx]])
                k_i, p_i = _select(group[idx], value, pos[idx], allowed[idx], per_list)
                keep[idx], place[idx] = k_i, p_i
                contrib[idx] = np.where(k_i & (p_i < head), prob[idx] * weight[np.minimum(p_i, per_list - 1)], 0.0)
        demand = np.bincount(other, weights=contrib, minlength=n_o)
        excess = np.where(demand > capacity, 1.0 - capacity / np.maximum(demand, 1e-12), 0.0)
        if excess.max() < 1e-3:
            break
        raised = np.minimum(price + step * excess, 1.0)  # ascending: a price never falls, so the rounds settle
        moved = raised != price
        price = raised
    return price


def held_back(room: np.ndarray, hold_at: float | None) -> np.ndarray | None:
    """Per opening: no room now, so not recommended now (`price_allocate`'s `hold_at`): its
    places not spoken for (`not_spoken_for`: free places less the expected starts of the chains
    in flight) are at most `hold_at` — every opening with no free place, and one whose free
    places the chains already in process are expected to fill. None when `hold_at` is None or
    negative (off)."""
    if hold_at is None or hold_at < 0:
        return None
    return np.asarray(room, dtype=float) <= float(hold_at)


def price_allocate(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    free: np.ndarray,
    *,
    factor: float = CAP_FACTOR,
    per_list: int = PER_LIST,
    depth: int = 50,
    strength: float = 1.0,
    full_strength: float | None = None,
    full: np.ndarray | None = None,
    scale: float = 1.0,
    rounds: int = 40,
    step: float = 0.25,
    head: int = PER_LIST,
    tail: str = "priced",
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
    hold_at: float | None = None,
    room: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-length recommended-now lists drawn from the first `depth` of each personal list,
    with congestion priced rather than cut (ReCon, Bied et al.): (kept mask, each pair's place
    in its participant's list by priced value, price per opening).

    An opening's expected starts are Σ start probability (`scale` × shown score) × attention
    (`attention`, by place) over the lists whose first `head` places hold it; its capacity is
    `factor` × free places of expected starts. Each round every opening whose expected starts
    exceed that capacity has its price raised by `step` × the share above it (1 − capacity /
    expected), up to 1 — a Lagrange multiplier of the capacity constraint, in units of a pair's
    value, found by ascending tâtonnement: a price never falls, so the rounds settle (at most
    `rounds`; deterministic). Each participant keeps the `per_list` pairs of highest score ×
    (1 − `strength` × price), ties by personal rank: a congested opening moves down or gives
    way to the next best one of their own ranking, and the lists stay full wherever the personal
    list has `per_list` pairs within `depth`. With capacity for everyone every price is 0 and
    the list is the personal top `per_list`. With `tail` "personal" only the first `head`
    places are taken by priced value and the rest of the list keeps the personal order
    (`_select_list`): a congested opening moves down rather than out, and the expected starts
    (counted on the head) are the same. An employer with `contacts_left[employer[o]]` is
    in at most that many lists (a hard cap: its pairs of lowest value are dropped and the lists
    refilled from deeper).

    `hold_at` (None: off): an opening with no room now — its places not spoken for (`room`,
    per opening, global: `not_spoken_for`; default `free`) at most `hold_at` — is not
    recommended now at all (`held_back`): it is never in a list, whose places are refilled from
    deeper pairs with room (within `depth`); where there are none the list is short or empty
    (the view then says "nothing with room nearby now"). The personal list keeps it.

    Cost: per round, one sort of the lists that hold an opening repriced in the round before
    (`_prices`): 7.9 against 10.5 CPU s for sorting every pair in every round, on synthetic
    300k × 50 lists in 100 office shards (benchmarks/allocation_scale.py --offices 100)."""
    group, other, pos = (np.asarray(a, dtype=np.int64) for a in (group, other, pos))
    score = np.asarray(score, dtype=float)
    free = np.asarray(free, dtype=float)
    n_o = len(free)
    price = np.zeros(n_o)
    keep = np.zeros(len(group), dtype=bool)
    if len(group) == 0 or per_list <= 0:
        return keep, np.zeros(len(group), dtype=np.int64), price
    allowed = pos < depth
    held = held_back(room if room is not None else free, hold_at)
    if held is not None:
        allowed &= ~held[other]
    prob = score * scale
    capacity = factor * free
    # the price's weight per opening: `full_strength` on openings with no free place at all
    # (`full`, default free == 0), so that a place that cannot take anyone now leaves the heads
    weigh = np.full(n_o, float(strength))
    if full_strength is not None:
        weigh[np.asarray(full, dtype=bool) if full is not None else free <= 0] = float(full_strength)
    price = _prices(group, other, score, pos, allowed, prob, capacity, weigh, per_list=per_list, head=head, rounds=rounds, step=step)
    value = score * (1.0 - weigh[other] * price[other])
    keep, place = _select_list(group, value, score, pos, allowed, per_list, head, tail)
    # The guard: prices found by tâtonnement can overshoot (small cases where the lists reach
    # fewer expected starts than the personal lists). Then the personal lists are kept, so the
    # lists never reach fewer expected starts than the personal ones on the same places.
    if held is None:
        personal, p_place = allowed & (pos < per_list), pos.copy()
    else:  # the personal order among the pairs with room (the lists' refill from deeper)
        personal, p_place = _select(group, score, pos, allowed, per_list)
    if expected_starts(other, keep, place, prob, head, capacity) < expected_starts(other, personal, p_place, prob, head, capacity) - 1e-12:
        keep, place, price = personal, p_place, np.zeros(n_o)
        value = score
    if contacts_left is not None:
        if employer is None:
            raise ValueError("contacts_left needs the employer of each opening")
        emp = np.asarray(employer, dtype=np.int64)[other]
        left = np.asarray(contacts_left, dtype=float)
        while True:  # each pass only removes pairs: it ends
            idx = np.flatnonzero(keep)
            order = idx[np.lexsort((pos[idx], group[idx], -value[idx], emp[idx]))]
            es = emp[order]
            starts = np.flatnonzero(np.r_[True, es[1:] != es[:-1]]) if len(es) else np.zeros(0, dtype=np.int64)
            rank = np.arange(len(es)) - np.repeat(starts, np.diff(np.r_[starts, len(es)]))
            over = order[rank >= left[es]]
            if len(over) == 0:
                break
            allowed = allowed.copy()
            allowed[over] = False
            # the employer's lists are full now: no other pair of it may enter
            full = np.bincount(es[rank < left[es]], minlength=len(left)) >= left
            allowed &= ~(full[emp] & ~keep)
            keep, place = _select_list(group, value, score, pos, allowed, per_list, head, tail)
    return keep, place, price


# ---------------------------------------------------------------------------- reasons


def note_view(note: Any, lang: str) -> dict[str, Any]:
    """A stored note (`store.lists.Note`: kept, suggested, free, exposure, crowded) as the API
    shows it, with its reason from the message catalogues: held back because others are
    suggested (or no place is free; or, where the opening itself was not congested, because
    openings with fewer competitors moved up into the list), or kept — with few competitors (the run's allocation did
    not have to hold the opening to its capacity: in price mode it has a free place and its
    price stayed 0 in the participant's shard, in flow mode it was in no more personal top-10
    lists than its cap), or
    among the best fits. Notes of runs before `crowded` was stored fall back to the flow
    mode's default cap on the personal top-10 exposure."""
    kept, suggested, free, exposure_ = bool(note[0]), int(note[1]), int(note[2]), int(note[3])
    crowded = int(note[4]) if len(note) > 4 else -1
    held, in_process = (int(note[5]), int(note[6])) if len(note) > 6 else (0, 0)
    others = max(suggested - int(kept), 0)
    if not kept and held:  # no room now (`held_back`): not recommended now at all
        key = "allocation.full_now" if held == 1 or free == 0 else "allocation.spoken_for" if held == 2 else "allocation.few_free"
        text = t(key, lang, free=free, in_process=in_process)
    elif not kept:
        if free == 0:
            text = t("allocation.no_free_place", lang)
        elif crowded == 0:  # not congested itself: out of the list because others moved up into its head
            text = t("allocation.made_room", lang, others=others, free=free)
        else:
            text = t("allocation.held_back", lang, others=others, free=free)
    elif free > 0 and (crowded == 0 or (crowded < 0 and exposure_ <= CAP_FACTOR * free)):
        text = t("allocation.few_competitors", lang, others=others, free=free)
    else:
        text = t("allocation.best_fit", lang, others=others, free=free)
    out = {"recommended_now": kept, "others_suggested": others, "free_places": free, "reason": text}
    if len(note) > 6:  # runs since the recommended-now lists hold back openings with no room (session 22)
        out["full_now"] = bool(held)
        out["in_process"] = in_process
    return out


def room_state(opening_ids: list[str], notes: dict[str, Any], per_list: int) -> dict[str, Any] | None:
    """The head of a recommended-now list that openings with no room now left short (`held_back`):
    None when none of the participant's noted openings (their personal top 10) was held back
    for want of room, or the list is full-length anyway; else whether nothing with room is
    left (the list is empty), how many have room and how many of the best fits are full."""
    held = sum(1 for note in notes.values() if len(note) > 6 and int(note[5]) and not bool(note[0]))
    n = len(opening_ids)
    if held == 0 or n >= per_list:
        return None
    return {"nothing_with_room": n == 0, "with_room": n, "held_back_full": held}


def room_view(state: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """`room_state` with the sentence an adviser reads: "nothing with room nearby now" when the
    list is empty, else how many have room and how many of the best fits are held back."""
    if state is None:
        return None
    n, held = state["with_room"], state["held_back_full"]
    text = t("allocation.nothing_with_room", lang) if state["nothing_with_room"] else t("allocation.short_of_room", lang, n=n, held=held)
    return {**state, "message": text}


# ---------------------------------------------------------------------------- shards


def _dhondt(item: np.ndarray, shard: np.ndarray, demand: np.ndarray, bound: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """Per (item, shard) row: seats of `seats[item]` given to it by D'Hondt over `demand`,
    at most `bound` per row. Ties go to the earlier row. House-monotone: a larger `seats`
    never gives any row fewer."""
    n = len(item)
    out = np.zeros(n, dtype=np.int64)
    m = np.minimum(bound, seats[item])
    if n == 0 or m.sum() == 0:
        return out
    row = np.repeat(np.arange(n), m)
    k = np.arange(len(row)) - np.repeat(np.cumsum(m) - m, m) + 1
    quotient = demand[row] / k
    it = item[row]
    order = np.lexsort((row, k, -quotient, it))
    it_sorted = it[order]
    starts = np.flatnonzero(np.r_[True, it_sorted[1:] != it_sorted[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    won = order[rank < seats[it_sorted]]
    np.add.at(out, row[won], 1)
    return out


def split_capacity(shard: np.ndarray, item: np.ndarray, weight: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """Per pair: the seats its (shard, item) got when each item's `seats` are split across
    shards by D'Hondt over the shards' demand (Σ weight of their pairs on the item), at most a
    shard's pair count each."""
    shard, item = np.asarray(shard, dtype=np.int64), np.asarray(item, dtype=np.int64)
    if len(item) == 0:
        return np.zeros(0, dtype=np.int64)
    n_items = int(item.max()) + 1
    uk, inv = np.unique(shard * n_items + item, return_inverse=True)
    demand = np.bincount(inv, weights=weight, minlength=len(uk))
    count = np.bincount(inv, minlength=len(uk))
    ks, ki = uk // n_items, uk % n_items
    order = np.lexsort((ks, ki))
    got = np.zeros(len(uk), dtype=np.int64)
    got[order] = _dhondt(ki[order], ks[order], demand[order], count[order], np.asarray(seats, dtype=np.int64))
    return got[inv]


@dataclass
class ShardTask:
    """One allocation shard: its pairs (global rows) and the capacity it was given."""

    group: np.ndarray
    other: np.ndarray
    score: np.ndarray
    pos: np.ndarray
    cap: np.ndarray  # per global opening row (only this shard's openings matter)
    employer: np.ndarray | None
    contacts: np.ndarray | None  # per global employer row
    per_list: int


def run_shard(task: ShardTask) -> np.ndarray:
    """The unit of allocation work, identical on every backend."""
    return allocate(
        task.group,
        task.other,
        task.score,
        task.pos,
        task.cap,
        per_list=task.per_list,
        employer=task.employer,
        contacts_left=task.contacts,
    )


def shard_tasks(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    shard: np.ndarray,
    cap: np.ndarray,
    *,
    per_list: int = PER_LIST,
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
) -> list[tuple[np.ndarray, ShardTask]]:
    """Per shard (`shard[pair]`): the pair indices and its task, with every opening's cap and
    every employer's contacts split across shards (`split_capacity`), so the union of the
    shards' answers respects the global caps."""
    shard = np.asarray(shard, dtype=np.int64)
    n_shards = int(shard.max()) + 1 if len(shard) else 0
    weight = np.asarray(score, dtype=float) + 1e-6
    o_seats = split_capacity(shard, other, weight, np.minimum(cap, UNLIMITED))
    e_seats = None
    if contacts_left is not None:
        if employer is None:
            raise ValueError("contacts_left needs the employer of each opening")
        e_seats = split_capacity(shard, np.asarray(employer)[other], weight, np.minimum(contacts_left, UNLIMITED))
    out = []
    order = np.argsort(shard, kind="stable")
    bounds = np.searchsorted(shard[order], np.arange(n_shards + 1))
    for s in range(n_shards):
        idx = order[bounds[s] : bounds[s + 1]]
        if len(idx) == 0:
            continue
        c = np.zeros(len(cap), dtype=np.int64)
        c[other[idx]] = o_seats[idx]
        contacts = None
        if e_seats is not None:
            assert contacts_left is not None and employer is not None
            contacts = np.zeros(len(contacts_left), dtype=np.int64)
            contacts[np.asarray(employer)[other[idx]]] = e_seats[idx]
        out.append((idx, ShardTask(group[idx], other[idx], score[idx], pos[idx], c, employer, contacts, per_list)))
    return out


# ---------------------------------------------------------------------------- priced shards


def split_share(shard: np.ndarray, item: np.ndarray, weight: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Per pair: the share of `amount[item]` its (shard, item) gets when each item's amount is
    split across the shards that list it in proportion to their weight on it (Σ `weight` of
    their pairs on the item; equal shares where that is 0 for every shard). Continuous, so the
    shares of an item add up to its amount (up to rounding)."""
    shard, item = np.asarray(shard, dtype=np.int64), np.asarray(item, dtype=np.int64)
    if len(item) == 0:
        return np.zeros(0)
    n_items = int(item.max()) + 1
    uk, inv = np.unique(shard * n_items + item, return_inverse=True)
    ki = uk % n_items
    demand = np.bincount(inv, weights=np.asarray(weight, dtype=float), minlength=len(uk))
    total = np.bincount(ki, weights=demand, minlength=n_items)
    listed = np.bincount(ki, minlength=n_items)
    frac = np.where(total[ki] > 0, demand / np.where(total[ki] > 0, total[ki], 1.0), 1.0 / listed[ki])
    return (np.asarray(amount, dtype=float)[ki] * frac)[inv]


@dataclass
class PriceTask:
    """One priced shard: its pairs (`group` global participant rows, `other` rows into
    `openings`, the shard's openings as global rows), each opening's share of the free places
    (`free`, fractional), each of its employers' share of the contacts left, and the settings."""

    group: np.ndarray
    other: np.ndarray
    score: np.ndarray
    pos: np.ndarray
    openings: np.ndarray
    free: np.ndarray
    employer: np.ndarray | None  # per local opening: a row into `contacts`
    contacts: np.ndarray | None
    options: dict[str, Any]
    full: np.ndarray | None = None  # per local opening: no free place at all (not only in this shard's share)
    room: np.ndarray | None = None  # per local opening: its places not spoken for, all of them (`hold_at`)


def expected_starts(other: np.ndarray, keep: np.ndarray, place: np.ndarray, prob: np.ndarray, head: int, capacity: np.ndarray) -> float:
    """What the lists' heads can turn into starts: Σ over openings of min(capacity, expected
    starts from the lists whose first `head` places hold it) — `price_allocate`'s objective,
    capacity being `factor` × free places."""
    return float(np.minimum(capacity, head_demand(other, keep, place, prob, head, len(capacity))).sum())


def head_demand(other: np.ndarray, keep: np.ndarray, place: np.ndarray, prob: np.ndarray, head: int, n_openings: int) -> np.ndarray:
    """Per opening: expected starts from the lists whose first `head` places hold it (start
    probability × `attention` by place) — what `price_allocate` holds to `factor` × free."""
    at = keep & (place < head)
    return np.bincount(other[at], weights=prob[at] * attention(max(head, 1))[place[at]], minlength=n_openings)


def run_price_shard(task: PriceTask) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The unit of priced allocation work, identical on every backend: `price_allocate` on the
    shard's pairs with its share (kept mask, place, price per opening of `task.openings`), and
    the shard's expected starts per opening at those prices (`head_demand`, for `resplit`)."""
    keep, place, price = price_allocate(
        task.group,
        task.other,
        task.score,
        task.pos,
        task.free,
        full=task.full,
        room=task.room,
        employer=task.employer,
        contacts_left=task.contacts,
        **task.options,
    )
    head = int(task.options.get("head", PER_LIST))
    prob = np.asarray(task.score, dtype=float) * float(task.options.get("scale", 1.0))
    return keep, place, price, head_demand(task.other, keep, place, prob, head, len(task.openings))


def _run_price_shard_small(task: PriceTask) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`run_price_shard`, its places sent back as int16 where they fit (a list's places are
    below its length): a result is pickled back from a worker for every pair on every pass."""
    keep, place, price, demand = run_price_shard(task)
    if len(place) and place.max() <= np.iinfo(np.int16).max:
        place = place.astype(np.int16)
    return keep, place, price, demand


def resplit(tasks: list[PriceTask], results: list[tuple[np.ndarray, ...]], factor: float) -> list[np.ndarray | None]:
    """The second pass's shares (per task: the new `free` share of each of its openings, or
    None where nothing changed). A fixed split of an opening's places cannot follow demand as
    the prices move it: one office's shard prices an opening while another leaves part of its
    share unused. Here every shard that did not price an opening keeps what its lists use of
    it (its expected starts / `factor`, at most its share), and what it leaves is handed to the
    shards that priced it, in proportion to their expected starts on it plus their share. Only
    openings priced somewhere and left partly unused somewhere else move; the shares of each
    opening still add up to its free places. Work in the parent: one pass over the (shard,
    opening) rows, not over the pairs."""
    if not tasks:
        return []
    size = np.array([len(t.openings) for t in tasks])
    op = np.concatenate([t.openings for t in tasks]).astype(np.int64)
    old = np.concatenate([t.free for t in tasks]).astype(float)
    price = np.concatenate([r[2] for r in results]).astype(float)
    demand = np.concatenate([r[3] for r in results]).astype(float)
    n = int(op.max()) + 1 if len(op) else 0
    priced = price > 0
    used = demand / factor if factor > 0 else np.where(demand > 0, np.inf, 0.0)
    has_priced = np.bincount(op, weights=priced, minlength=n) > 0
    give = np.where(~priced & has_priced[op], np.maximum(old - used, 0.0), 0.0)
    give[give < 1e-9] = 0.0
    pool = np.bincount(op, weights=give, minlength=n)
    weight = np.where(priced, demand + old + 1e-12, 0.0)
    total = np.bincount(op, weights=weight, minlength=n)
    new = old - give + np.where(priced, pool[op] * weight / np.where(total[op] > 0, total[op], 1.0), 0.0)
    changed = (give > 0) | (priced & (pool[op] > 0))
    out: list[np.ndarray | None] = []
    for a, b in zip(np.r_[0, np.cumsum(size)[:-1]], np.cumsum(size)):
        out.append(new[a:b] if changed[a:b].any() else None)
    return out


def price_shards(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    shard: np.ndarray,
    free: np.ndarray,
    *,
    mapper: Any = None,
    passes: int = 2,
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
    lazy: bool = False,
    meanwhile: Callable[[], None] | None = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sharded priced allocation as the batch runs it: `price_shard_tasks`, every shard's
    `run_price_shard` through `mapper(fn, tasks) -> results` (the run's backend; default: in
    this process), then `passes` − 1 rounds of `resplit` that rerun only the shards whose
    shares changed. Returns (kept mask, place in the list, the price of each pair's opening in
    its shard). Deterministic; one shard is exactly `price_allocate`. `lazy`: the first pass's
    tasks reach `mapper` as an iterator, each as soon as it is cut (for a mapper that iterates
    them once and can start on the first meanwhile). `meanwhile`: called once every first-pass
    task is handed over, before its results are awaited (work for this process while a
    backend that returns results lazily computes them)."""
    if mapper is None:
        mapper = lambda fn, items: [fn(x) for x in items]  # noqa: E731
    n = len(group)
    keep, place, priced = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64), np.zeros(n)
    ptasks: list[tuple[np.ndarray, PriceTask]] = []

    def first_pass() -> Iterator[PriceTask]:  # handed over as built: the backend starts on the first while the rest are cut
        for item in _price_shard_tasks(group, other, score, pos, shard, free, employer=employer, contacts_left=contacts_left, **options):
            ptasks.append(item)
            yield item[1]

    pending = mapper(_run_price_shard_small, first_pass() if lazy else list(first_pass()))
    if meanwhile is not None:
        meanwhile()
    results = list(pending)
    tasks = [t for _, t in ptasks]
    factor = float(options.get("factor", CAP_FACTOR))
    for _ in range(max(passes, 1) - 1):
        shares = resplit(tasks, results, factor)
        again = [i for i, sh in enumerate(shares) if sh is not None]
        if not again:
            break
        for i in again:
            tasks[i] = PriceTask(**{**tasks[i].__dict__, "free": shares[i]})
        for i, r in zip(again, mapper(_run_price_shard_small, [tasks[i] for i in again])):
            results[i] = r
    for (idx, _), task, (kept, placed, price, _) in zip(ptasks, tasks, results):
        keep[idx], place[idx], priced[idx] = kept, placed, price[task.other]
    return keep, place, priced


def split_weights(other: np.ndarray, score: np.ndarray, pos: np.ndarray, free: np.ndarray, **options: Any) -> np.ndarray:
    """Per pair (in participant order, each list in rank order): its weight in the split of its
    opening's free places across the shards (`price_shard_tasks`)."""
    head = int(options.get("head", PER_LIST))
    scale = float(options.get("scale", 1.0))
    depth = int(options.get("depth", 50))
    factor = float(options.get("factor", CAP_FACTOR))
    prob = score * scale
    # expected starts at price 0 (what price_allocate measures against the capacity) ...
    now = np.where(pos < head, prob * attention(max(head, 1))[np.minimum(pos, max(head, 1) - 1)], 0.0)
    # ... and who could come: every pair a list may be refilled from, by the same discount over the depth
    could = np.where(pos < depth, prob * attention(max(depth, 1))[np.minimum(pos, max(depth, 1) - 1)], 0.0)
    congested = np.bincount(other, weights=now, minlength=len(free)) > factor * np.asarray(free, dtype=float)
    return np.where(congested[other], now, could) + 1e-6 * score


def _stable_order(shard: np.ndarray, n_shards: int) -> np.ndarray:
    """`np.argsort(shard, kind="stable")`; through 16 bits where the shards fit (numpy sorts
    those by radix: 0.25 against 1.36 CPU s for 12.7M pairs), the same order."""
    if n_shards <= np.iinfo(np.int16).max:
        return np.argsort(shard.astype(np.int16), kind="stable")
    return np.argsort(shard, kind="stable")


def price_shard_tasks(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    shard: np.ndarray,
    free: np.ndarray,
    *,
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
    **options: Any,
) -> list[tuple[np.ndarray, PriceTask]]:
    """Per shard (`shard[pair]`, a participant's pairs all in one): the pair indices and its
    `PriceTask`, `options` being `price_allocate`'s keywords (factor, per_list, depth, strength,
    scale, head, ...), the same for every shard.

    The shards share the places: each opening's free places (so its expected-starts capacity,
    `factor` × free) are split across the shards that list it in proportion to a weight per
    shard (`split_share`; fractional, as the capacity itself is: 0.3 × 1 place). An opening
    congested at price 0 is split by the shards' expected starts on it then (score × `scale` ×
    `attention` over the first `head` places — the demand `price_allocate` prices), so each
    shard's first price step is the global one. Any other opening is split by who could come
    to it (the same discount over every pair within `depth`): its room is what displaced
    demand lands on, and a split by today's heads alone left that room in shards that did not
    need it (measured with benchmarks/allocation.py on the tuning seeds 11–13: +6.9 % starts
    against +11.0 %, the unsharded step's +10.2 %). Every listing shard gets at least a crumb
    (1e-6 of a score). Each employer's contacts left, an integer hard cap, are split by
    D'Hondt over the same weights (`split_capacity`, at most a shard's pairs of the employer
    each), so the union of the shards' lists never holds an employer more often than it has
    contacts. With room for everyone each shard's prices stay 0 and every list is the
    personal top. `room` (an option, per opening, default `free`): the places `hold_at`
    holds openings back by, whole (not a shard's share)."""
    return list(_price_shard_tasks(group, other, score, pos, shard, free, employer=employer, contacts_left=contacts_left, **options))


def _price_shard_tasks(
    group: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    shard: np.ndarray,
    free: np.ndarray,
    *,
    employer: np.ndarray | None = None,
    contacts_left: np.ndarray | None = None,
    **options: Any,
) -> Iterator[tuple[np.ndarray, PriceTask]]:
    """`price_shard_tasks`, each shard's task yielded as soon as it is cut."""
    group, other, pos, shard = (np.asarray(a, dtype=np.int64) for a in (group, other, pos, shard))
    score = np.asarray(score, dtype=float)
    room = np.asarray(options.pop("room", free), dtype=float)  # what `hold_at` holds back by (default: `free`)
    weight = split_weights(other, score, pos, free, **options)
    emp_pair = e_seats = None
    if contacts_left is not None:
        if employer is None:
            raise ValueError("contacts_left needs the employer of each opening")
        emp_pair = np.asarray(employer, dtype=np.int64)[other]
        e_seats = split_capacity(shard, emp_pair, weight, np.minimum(np.asarray(contacts_left, dtype=float), UNLIMITED))
    n_shards = int(shard.max()) + 1 if len(shard) else 0
    order = _stable_order(shard, n_shards)
    bounds = np.searchsorted(shard[order], np.arange(n_shards + 1))
    # `split_share(shard, other, weight, free)`, shard by shard: each shard's openings (sorted)
    # and its demand on each, summed pair by pair in the same order as split_share's one
    # bincount, and the totals over the shards added in shard order as its second one does
    # — the same shares to the last bit, without sorting every pair by (shard, opening).
    n_o = len(free)
    total, listed = np.zeros(n_o), np.zeros(n_o, dtype=np.int64)
    present = np.zeros(n_o, dtype=bool)
    per_shard = []
    for s in range(n_shards):
        idx = order[bounds[s] : bounds[s + 1]]
        if len(idx) == 0:
            continue
        o_s = other[idx]
        present[:] = False
        present[o_s] = True
        openings = np.flatnonzero(present)
        local = (np.cumsum(present) - 1)[o_s]  # = np.unique(o_s, return_inverse=True)
        demand = np.bincount(local, weights=weight[idx], minlength=len(openings))
        total[openings] += demand
        listed[openings] += 1
        per_shard.append((idx, openings, local, demand))
    free = np.asarray(free)
    # What a task carries, as small as it stays exact (pickled to a worker on each pass: 12.7M
    # national pairs); price_allocate reads them as int64 / float all the same.
    g_small = group.astype(np.int32) if len(group) and 0 <= group.min() and group.max() <= np.iinfo(np.int32).max else group
    p_small = pos.astype(np.int16) if len(pos) and 0 <= pos.min() and pos.max() <= np.iinfo(np.int16).max else pos
    s_small = score.astype(np.float32)
    if not np.array_equal(s_small, score):  # the batch's shown scores are float32 already
        s_small = score
    for idx, openings, local, demand in per_shard:
        t = total[openings]
        free_s = np.asarray(free[openings], dtype=float) * np.where(t > 0, demand / np.where(t > 0, t, 1.0), 1.0 / listed[openings])
        emp_s = contacts_s = None
        if emp_pair is not None and e_seats is not None:
            employers, e_local = np.unique(emp_pair[idx], return_inverse=True)
            contacts_s = np.zeros(len(employers), dtype=np.int64)
            contacts_s[e_local] = e_seats[idx]
            emp_s = np.zeros(len(openings), dtype=np.int64)
            emp_s[local] = e_local
        task = PriceTask(
            g_small[idx],
            local.astype(np.int32),
            s_small[idx],
            p_small[idx],
            openings,
            free_s,
            emp_s,
            contacts_s,
            dict(options),
            free[openings] <= 0,
            room[openings],
        )
        yield idx, task
