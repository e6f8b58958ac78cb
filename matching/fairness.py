"""The fairness report: do the lists serve some groups of participants worse than others?

For the served run (its stored lists) or for any saved model (lists computed on today's
snapshot), by group — age band (from the optional birth year), adaptation needs (any; each
category), Norwegian level, driving licence, urban or rural home, office:

- **exposure**: how often the group's members appear in liaison staff's candidate top-10s
  (opening → participants, the employer-facing lists), relative to how often they are
  *eligible* — a pair of the participant and an open opening that passes every hard constraint
  (`candidates`), counted on the same employer-facing view. Ratio of sums: appearances /
  eligible pairs over the group's members;
- **list quality**: the mean model score and the mean distance (km, from the real home) of each
  participant's own top 10 (participant → openings), averaged over the group's members;
- **outcomes**: of the pairs suggested to the group's members (the outcome history), the share
  that reached an interview or better, and the share that started (trial started or hired).
  The same for every model: the history is what happened.

Group-wise figures come from fairlearn's `MetricFrame`. Small cells are health-data disclosure
(an adaptation-need group of three is three people): a figure resting on fewer than
`min_cell` participants is suppressed — its count and value both — and when one cell of a
grouping is suppressed the next smallest is too, so that nobody can subtract the shown cells
from the overall figure to recover it (complementary suppression, per family of figures).

Age is reported on, never matched on: no criterion or constraint reads the birth year.
Urban or rural: the home municipality's population and density (`municipalities.csv`) as a
stand-in for SSB's centrality index (classes 1–6), which is not among the project's reference
data; see URBAN_MIN_POPULATION.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from matching import candidates, topk
from matching.engine import MatchEngine
from matching.scoring import ScoringModel
from matching.taxonomy import adaptations, places
from matching.taxonomy._files import reference_path
from matching.topk import Ranked
from matching.world import World

#: Figures resting on fewer participants than this are suppressed.
MIN_CELL = 10
#: List length the report reads: liaison staff's and advisers' first page.
TOP_N = 10
#: Age bands (age on the report's date, inclusive upper bounds); NAV's "youth" is under 25.
AGE_BANDS = ((24, "under 25"), (34, "25–34"), (49, "35–49"), (59, "50–59"), (200, "60 and over"))
UNKNOWN = "unknown"
#: A home municipality counts as urban with at least this many inhabitants or this density
#: (inhabitants / km²): Trondheim, Stjørdal and the towns are, Skaun or Orkland's villages are not.
#: A stand-in for SSB's centrality classes 1–3 vs 4–6.
URBAN_MIN_POPULATION = 20_000
URBAN_MIN_DENSITY = 100.0

#: Each figure and the count of participants it rests on (the suppression rule reads the count).
FAMILIES: dict[str, tuple[str, ...]] = {
    "participants": (),
    "eligible_participants": ("exposure", "appearances_per_participant"),
    "listed_participants": ("mean_score", "mean_distance_km"),
    "participants_with_history": ("interview_rate", "start_rate"),
}
FIGURES = tuple(f for fs in FAMILIES.values() for f in fs)
COUNTS = tuple(FAMILIES)


@dataclass
class ListStats:
    """Per participant (rows of the World): what the lists gave them."""

    appearances: np.ndarray  # times listed in an opening's top TOP_N (employer-facing)
    eligible: np.ndarray  # eligible (participant, open opening) pairs, employer-facing
    mean_score: np.ndarray  # of their own top TOP_N; NaN without a list
    mean_distance: np.ndarray  # km, idem


@dataclass
class OutcomeStats:
    suggested: np.ndarray  # suggested pairs in the history
    interviews: np.ndarray  # of which reached interview or better
    starts: np.ndarray  # of which trial started or hired


# ----------------------------------------------------------------------------- groups


@lru_cache(maxsize=1)
def _urban_municipalities() -> frozenset[str]:
    m = pd.read_csv(reference_path("municipalities.csv"), dtype={"kommunenummer": str})
    density = m["population"] / m["area_km2"].where(m["area_km2"] > 0)
    urban = (m["population"] >= URBAN_MIN_POPULATION) | (density >= URBAN_MIN_DENSITY)
    return frozenset(m.loc[urban, "kommunenummer"])


def home_kind(postal_code: str) -> str:
    place = places.lookup(postal_code)
    if place is None:
        return UNKNOWN
    return "urban" if place.municipality_code in _urban_municipalities() else "rural"


def age_band(birth_year: Any, as_of: dt.date) -> str:
    if birth_year is None or (isinstance(birth_year, float) and math.isnan(birth_year)) or pd.isna(birth_year):
        return UNKNOWN
    age = as_of.year - int(birth_year)
    return next(label for top, label in AGE_BANDS if age <= top)


def groups(world: World, as_of: dt.date) -> pd.DataFrame:
    """One column per grouping, one row per participant (the World's order)."""
    f = world.participants.frame
    birth = f["birth_year"] if "birth_year" in f else pd.Series([None] * len(f))
    needs = [list(x or []) for x in f["adaptation_needs"]]
    by_code = adaptations.needs()
    cats = sorted({n.category for n in by_code.values()})
    out = {
        "age_band": [age_band(b, as_of) for b in birth],
        "adaptation_needs": ["yes" if n else "no" for n in needs],
    }
    for c in cats:
        out[f"adaptation_needs:{c}"] = ["yes" if any(by_code[x].category == c for x in n if x in by_code) else "no" for n in needs]
    out["norwegian_level"] = [str(x) for x in f["norwegian_level"]]
    out["driving_licence"] = ["yes" if list(x or []) else "no" for x in f["driving_licences"]]
    out["home"] = [home_kind(str(p)) for p in f["postal_code"]]
    out["office"] = [str(x) for x in f["office_id"]]
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- what the lists gave


def eligible_pairs(world: World, as_of: dt.date, chunk: int = 2048) -> np.ndarray:
    """Per participant: open openings they pass every hard constraint for, on the
    employer-facing view (what liaison staff's candidate lists are drawn from)."""
    view = world.employer_view
    index = candidates.index(view)
    counts = np.zeros(len(view.participants), dtype=np.int64)
    for a in range(0, len(view.participants), chunk):
        pairs = index.for_participants(np.arange(a, min(a + chunk, len(view.participants))), as_of, "any")
        counts += np.bincount(pairs.p, minlength=len(counts))
    return counts


def _own_lists(world: World, group: np.ndarray, other: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean score and mean distance of each participant's list (rows already cut at TOP_N)."""
    n = len(world.participants)
    pw, ow = world.participants, world.openings
    dist = places.haversine_km(pw.lat[group], pw.lon[group], ow.lat[other], ow.lon[other]) if len(group) else np.zeros(0)
    cnt = np.bincount(group, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.where(cnt > 0, np.bincount(group, weights=score, minlength=n) / cnt, np.nan)
        mean_dist = np.where(cnt > 0, np.bincount(group, weights=dist, minlength=n) / cnt, np.nan)
    return mean_score, mean_dist


def _first(ranked: Ranked, k: int) -> Ranked:
    """The first k rows of each group (rows of a group contiguous, best first)."""
    if len(ranked) == 0:
        return ranked
    starts, _ = ranked.segments()
    first_row = np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
    return ranked.take(np.flatnonzero(np.arange(len(ranked)) - first_row < k))


def from_model(world: World, model: ScoringModel, as_of: dt.date, eligible: np.ndarray | None = None) -> ListStats:
    """The lists `model` gives on this snapshot: the batch's own code (`both_directions`)."""
    engine = MatchEngine(world, model, as_of)
    p2o, o2p, _ = engine.both_directions(np.arange(len(world.participants)), TOP_N)
    o2p = topk.best(o2p, world.participants.tie_rank, TOP_N)  # merge the partial opening lists
    p2o = _first(p2o, TOP_N)
    mean_score, mean_dist = _own_lists(world, p2o.group, p2o.other, p2o.score)
    appearances = np.bincount(o2p.other, minlength=len(world.participants))
    return ListStats(appearances, eligible_pairs(world, as_of) if eligible is None else eligible, mean_score, mean_dist)


def from_stored(
    world: World,
    as_of: dt.date,
    participant_lists: dict[str, list[tuple[int, str, float]]],
    opening_lists: dict[str, list[tuple[int, str, float]]],
) -> ListStats:
    """A run's stored lists (`store.lists.run_lists`); ids no longer in the snapshot are skipped."""
    pi, oi = world.participants.index, world.openings.index
    g, o, s = [], [], []
    for pid, rows in participant_lists.items():
        if pid not in pi:
            continue
        for rank, oid, score in rows:
            if rank <= TOP_N and oid in oi:
                g.append(pi[pid])
                o.append(oi[oid])
                s.append(score)
    mean_score, mean_dist = _own_lists(world, np.asarray(g, dtype=np.int64), np.asarray(o, dtype=np.int64), np.asarray(s, dtype=float))
    listed = [pi[pid] for rows in opening_lists.values() for rank, pid, _ in rows if rank <= TOP_N and pid in pi]
    appearances = np.bincount(np.asarray(listed, dtype=np.int64), minlength=len(world.participants))
    return ListStats(appearances, eligible_pairs(world, as_of), mean_score, mean_dist)


def outcome_stats(world: World, pairs: pd.DataFrame) -> OutcomeStats:
    """`pairs`: one row per suggested pair with its best `grade` (training.outcome_pairs:
    interview 1, trial started 2, hired 3)."""
    n = len(world.participants)
    rows = pairs["participant_id"].map(world.participants.index)
    ok = rows.notna().to_numpy()
    p = rows[ok].astype(np.int64).to_numpy()
    grade = pairs["grade"].to_numpy()[ok]
    return OutcomeStats(
        np.bincount(p, minlength=n),
        np.bincount(p, weights=(grade >= 1).astype(float), minlength=n).astype(np.int64),
        np.bincount(p, weights=(grade >= 2).astype(float), minlength=n).astype(np.int64),
    )


# ----------------------------------------------------------------------------- the table


def _metrics(ls: ListStats, oc: OutcomeStats) -> dict[str, Any]:
    """fairlearn metrics over row indices: MetricFrame hands each group's rows to each metric."""

    def rows(y) -> np.ndarray:
        return np.asarray(y, dtype=np.int64)

    def ratio(num, den):
        return lambda y, _p: float(num[rows(y)].sum() / den[rows(y)].sum()) if den[rows(y)].sum() else math.nan

    def mean(values):
        return lambda y, _p: float(np.nanmean(values[rows(y)])) if np.isfinite(values[rows(y)]).any() else math.nan

    listed = np.isfinite(ls.mean_score)
    return {
        "participants": lambda y, _p: len(rows(y)),
        "eligible_participants": lambda y, _p: int((ls.eligible[rows(y)] > 0).sum()),
        "exposure": ratio(ls.appearances, ls.eligible),
        "appearances_per_participant": lambda y, _p: float(ls.appearances[rows(y)].mean()) if len(rows(y)) else math.nan,
        "listed_participants": lambda y, _p: int(listed[rows(y)].sum()),
        "mean_score": mean(ls.mean_score),
        "mean_distance_km": mean(ls.mean_distance),
        "participants_with_history": lambda y, _p: int((oc.suggested[rows(y)] > 0).sum()),
        "interview_rate": ratio(oc.interviews, oc.suggested),
        "start_rate": ratio(oc.starts, oc.suggested),
    }


def _clean(x: Any) -> Any:
    if isinstance(x, float | np.floating):
        return None if math.isnan(float(x)) else round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    return x


def suppress(rows: list[dict[str, Any]], min_cell: int = MIN_CELL) -> list[dict[str, Any]]:
    """Blank every figure resting on fewer than `min_cell` participants, and (complementary
    suppression) when exactly one cell of a family is blank, the smallest other non-empty one
    too: with the overall figure and counts shown, one blank cell could be recovered by
    subtraction. Blank: the value None, the figure's name in the row's `suppressed`."""
    out = [{**r, "suppressed": list(r.get("suppressed", []))} for r in rows]
    for count, figures in FAMILIES.items():
        primary = [i for i, r in enumerate(out) if 0 < (r[count] or 0) < min_cell]
        hidden = set(primary)
        if len(hidden) == 1:
            rest = sorted((r[count], i) for i, r in enumerate(out) if i not in hidden and (r[count] or 0) > 0)
            if rest:
                hidden.add(rest[0][1])
        for i in hidden:
            for name in (count, *figures):
                out[i][name] = None
                out[i]["suppressed"].append(name)
    return out


def table(grouping: pd.DataFrame, ls: ListStats, oc: OutcomeStats, min_cell: int = MIN_CELL) -> dict[str, Any]:
    """Overall figures and, per grouping, one suppressed row per group, with the grouping's
    exposure gap over its shown groups (1 − lowest / highest exposure)."""
    from fairlearn.metrics import MetricFrame

    idx = np.arange(len(grouping))
    metrics = _metrics(ls, oc)
    overall = {k: _clean(fn(idx, idx)) for k, fn in metrics.items()}
    dims = []
    for name in grouping.columns:
        mf = MetricFrame(metrics=metrics, y_true=idx, y_pred=idx, sensitive_features=grouping[name].rename(name))
        by = mf.by_group
        rows = [{"group": str(g), **{k: _clean(int(by.loc[g, k]) if k in COUNTS else by.loc[g, k]) for k in metrics}} for g in by.index]
        rows = suppress(rows, min_cell)
        shown = [r["exposure"] for r in rows if r["exposure"] is not None]
        gap = (1 - min(shown) / max(shown)) if len(shown) >= 2 and max(shown) > 0 else None
        dims.append({"name": name, "groups": rows, "exposure_gap": _clean(gap)})
    largest = max((d for d in dims if d["exposure_gap"] is not None), key=lambda d: d["exposure_gap"], default=None)
    return {
        "min_cell": min_cell,
        "top_n": TOP_N,
        "overall": overall,
        "dimensions": dims,
        "largest_exposure_gap": {"dimension": largest["name"], "gap": largest["exposure_gap"]} if largest else None,
    }


def report(world: World, as_of: dt.date, ls: ListStats, outcome_pairs: pd.DataFrame, source: dict[str, Any], min_cell: int = MIN_CELL):
    """The whole report for one set of lists."""
    return {
        "source": source,
        "as_of": as_of.isoformat(),
        **table(groups(world, as_of), ls, outcome_stats(world, outcome_pairs), min_cell),
    }


def largest_gap(rep: dict[str, Any]) -> float:
    """The report's largest exposure gap (0 when no grouping has two shown groups)."""
    g = rep.get("largest_exposure_gap")
    return float(g["gap"]) if g else 0.0


def card_summary(rep: dict[str, Any]) -> dict[str, Any]:
    """What a model card keeps of a report (the readable card renders it): the suppressed
    group rows as they are, nothing more revealing."""
    return {k: rep[k] for k in ("source", "as_of", "min_cell", "top_n", "overall", "dimensions", "largest_exposure_gap")}


# ----------------------------------------------------------------------------- from the database


class NothingToReport(LookupError):
    """No served run (or no such model): the API answers 404, the CLI exits 2."""


def served_run_report(conn, *, min_cell: int = MIN_CELL) -> dict[str, Any]:
    """The served run's stored lists, on today's snapshot, as of the run's date."""
    from matching.store import lists, runs
    from matching.store.snapshot import load_world
    from matching.training import outcome_pairs

    served = lists.serving(conn)
    if served is None:
        raise NothingToReport("no published run is served yet (matching refresh)")
    facts = runs.facts(conn, served.run_id)
    world = load_world(conn)
    ls = from_stored(
        world, facts.as_of, lists.run_lists(conn, served.run_id, "participant"), lists.run_lists(conn, served.run_id, "opening")
    )
    source = {"kind": "run", "run_id": served.run_id, "model_version": facts.model_version}
    return report(world, facts.as_of, ls, outcome_pairs(conn), source, min_cell)


def model_report(conn, model: ScoringModel, as_of: dt.date, *, min_cell: int = MIN_CELL, world: World | None = None) -> dict[str, Any]:
    """The lists `model` would give on today's snapshot (nothing stored)."""
    from matching.store.snapshot import load_world
    from matching.training import outcome_pairs

    world = world if world is not None else load_world(conn)
    source = {"kind": "model", "model_version": model.version}
    return report(world, as_of, from_model(world, model, as_of), outcome_pairs(conn), source, min_cell)
