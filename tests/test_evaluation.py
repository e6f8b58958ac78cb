"""Full-ranking evaluation (matching.evaluation), the suggestion-bias correction
(training.Correction) and the readable card (matching.card)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matching import card as card_page
from matching.evaluation import (
    baselines,
    distance_scorer,
    full_ranking,
    model_scorer,
    paired_difference,
    resample_indices,
)
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.training import (
    Correction,
    TrainingSet,
    choose_correction,
    fit_on,
    load_events,
    sampled_negatives,
    time_cutoff,
    train,
    training_set,
)
from tests.synthetic import build_world

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
DAY_A, DAY_B = dt.datetime(2026, 11, 2, 10), dt.datetime(2026, 11, 9, 10)
CUTOFF = dt.datetime(2026, 11, 1)


def _person(pid: str) -> dict:
    return {
        "participant_id": pid,
        "office_id": "nav-heimdal",
        "registered_at": dt.date(2025, 1, 1),
        "postal_code": "7030",
        "lat": 63.4197,
        "lon": 10.3953,
        "max_commute_km": 10.0,
        "desired_titles": ["kokk"],
        "desired_styrk08": ["5120"],
        "skills": [],
        "experience": [],
        "education_level": "upper_secondary",
        "norwegian_level": "native",
        "driving_licences": [],
        "max_hours_per_week": 37.5,
        "wants_part_time": False,
        "available_from": None,
        "goal": "either",
        "adaptation_needs": [],
        "shares_needs_with_employers": False,
        "preferred_industries": [],
        "trusted_person": None,
    }


def _job(oid: str, *, far: bool = False, published: dt.date = dt.date(2026, 10, 1)) -> dict:
    where = ("7500", 63.4681, 10.9234) if far else ("7030", 63.4197, 10.3953)  # Stjørdal is ~28 km away
    return {
        "opening_id": oid,
        "orgnr": "974760673",
        "kind": "job",
        "title": "Kokk",
        "styrk08": "5120",
        "styrk08_source": "given",
        "required_skills": [],
        "optional_skills": [],
        "required_licences": [],
        "min_norwegian": "none",
        "min_education": "none",
        "hours_per_week": 37.5,
        "positions": 1,
        "postal_code": where[0],
        "lat": where[1],
        "lon": where[2],
        "start_date": None,
        "deadline": None,
        "status": "open",
        "adaptations_offered": [],
        "office_id": "nav-heimdal",
        "published_at": published,
        "employer_name": "Test AS",
        "nace_section": "I",
        "employer_adaptations": [],
        "inclusive_workplace_agreement": False,
        "past_trial_placements": 0,
        "past_hires_after_trial": 0,
    }


@pytest.fixture(scope="module")
def tiny():
    """Two participants at one address (10 km limit); openings O-0…O-3 at the same address,
    O-4 ~28 km away (never a candidate), O-5 published only after day A."""
    world = build_world(
        [_person("P-1"), _person("P-2")],
        [_job(f"O-{i}") for i in range(4)] + [_job("O-4", far=True), _job("O-5", published=dt.date(2026, 11, 5))],
    )
    return world


def _fixed(order: dict[str, float]):
    """A scorer with a hand-set score per opening id."""

    def score(pairs, levels):
        return np.array([order[i] for i in pairs.world.openings.ids[pairs.o]])

    return score


def _history(rows):
    return pd.DataFrame(rows, columns=["participant_id", "opening_id", "first_at", "grade"])


def test_full_ranking_metrics_match_a_hand_computation(tiny):
    scores = {"O-0": 0.9, "O-1": 0.8, "O-2": 0.7, "O-3": 0.6, "O-4": 0.99, "O-5": 0.95}
    hist = _history(
        [
            ("P-1", "O-3", dt.datetime(2026, 10, 20), 1),  # before the cutoff: not a query, and left out later
            # P-1, day A: relevant O-0 (rank 1) and O-2 (rank 3 among O-0, O-1, O-2; O-3 was suggested
            # earlier, O-5 not yet published), O-4 beyond the commute limit (missed), O-1 suggested, no interview
            ("P-1", "O-0", DAY_A, 2),
            ("P-1", "O-2", DAY_A, 1),
            ("P-1", "O-4", DAY_A, 1),
            ("P-1", "O-1", DAY_A, 0),
            # P-2, day A: O-1 relevant at rank 2 (after O-0); day B: O-5 is out now and ranks first, O-1 was
            # suggested on day A (left out), so O-2 relevant at rank 3 (O-5, O-0, O-2)
            ("P-2", "O-1", DAY_A, 1),
            ("P-2", "O-2", DAY_B, 3),
        ]
    )
    rep = full_ranking(tiny, hist, CUTOFF, {"fixed": _fixed(scores)}, k=2)
    assert list(rep.participants) == ["P-1", "P-2"]
    assert rep.info["queries"] == 3 and rep.info["relevant"] == 5 and rep.info["relevant_candidates"] == 4
    m = rep.per_participant["fixed"]
    # P-1: ranks 1, 3, missed → recall@2 1/3; DCG 1, ideal 1 + 1/log2(3); MRR 1
    # P-2: day A rank 2 → recall 1, NDCG 1/log2(3), MRR 1/2; day B rank 3 → 0, 0, 1/3
    idcg2 = 1 + 1 / np.log2(3)
    np.testing.assert_allclose(m["recall@2"], [1 / 3, (1 + 0) / 2])
    np.testing.assert_allclose(m["ndcg@2"], [1 / idcg2, (1 / np.log2(3) + 0) / 2])
    np.testing.assert_allclose(m["mrr"], [1.0, (1 / 2 + 1 / 3) / 2])
    assert rep.mean("fixed", "mrr") == pytest.approx((1 + 5 / 12) / 2)


def test_a_filled_job_is_not_a_candidate_after_its_last_hire(tiny):
    hist = _history([("P-1", "O-2", DAY_B, 1)])
    scores = {"O-0": 0.9, "O-1": 0.8, "O-2": 0.7, "O-3": 0.6, "O-4": 0.0, "O-5": 0.0}
    events = pd.DataFrame([("P-2", "O-0", "hired", "2026-11-03T10:00")], columns=["participant_id", "opening_id", "event", "occurred_at"])
    without = full_ranking(tiny, hist, CUTOFF, {"f": _fixed(scores)}, k=10).per_participant["f"]["mrr"]
    with_hire = full_ranking(tiny, hist, CUTOFF, {"f": _fixed(scores)}, k=10, events=events).per_participant["f"]["mrr"]
    assert without[0] == pytest.approx(1 / 3) and with_hire[0] == pytest.approx(1 / 2)  # O-0 filled on day 3 of November


def test_ties_are_broken_as_the_engine_breaks_them(tiny):
    """Equal scores: the openings' tie rank (deadline, inclusion record, then id) orders them."""
    hist = _history([("P-1", "O-3", DAY_A, 1)])
    flat = {f"O-{i}": 0.5 for i in range(6)}
    rep = full_ranking(tiny, hist, CUTOFF, {"flat": _fixed(flat)})
    assert rep.per_participant["flat"]["mrr"][0] == pytest.approx(1 / 4)  # O-0, O-1, O-2, O-3 by id


def test_baselines_run_and_distance_finds_the_nearest(tiny):
    world = build_world(
        [_person("P-1")],
        [_job("O-0"), {**_job("O-1"), "postal_code": "7018", "lat": 63.429, "lon": 10.3682}],  # O-1 ~1.6 km away
    )
    hist = _history([("P-1", "O-0", DAY_A, 1)])
    rep = full_ranking(world, hist, CUTOFF, {"d": distance_scorer(), **baselines(world)})
    assert rep.per_participant["d"]["mrr"][0] == 1.0 and rep.per_participant["baseline_distance"]["mrr"][0] == 1.0
    for name in ("baseline_occupation", "baseline_tfidf"):
        assert 0.5 <= rep.per_participant[name]["mrr"][0] <= 1.0  # two candidates: rank 1 or 2


def test_the_bootstrap_is_deterministic_for_a_seed_and_pairs_draws(tiny):
    hist = _history([("P-1", "O-0", DAY_A, 1), ("P-1", "O-2", DAY_A, 1), ("P-2", "O-1", DAY_A, 1), ("P-2", "O-3", DAY_B, 1)])
    scores = {"O-0": 0.9, "O-1": 0.8, "O-2": 0.7, "O-3": 0.6, "O-4": 0.0, "O-5": 0.95}
    rep = full_ranking(tiny, hist, CUTOFF, {"a": _fixed(scores), "b": _fixed({k: -v for k, v in scores.items()})})
    one, two = rep.summary(n=300, seed=7), rep.summary(n=300, seed=7)
    assert one == two
    assert one["a"]["mrr"]["low"] <= one["a"]["mrr"]["mean"] <= one["a"]["mrr"]["high"]
    assert (resample_indices(50, 300, 7) == resample_indices(50, 300, 7)).all()
    assert (resample_indices(50, 300, 8) != resample_indices(50, 300, 7)).any()  # the seed matters
    a, b = rep.per_participant["a"]["mrr"], rep.per_participant["b"]["mrr"]
    same = paired_difference(a, a, n=200, seed=1)
    assert same == {"mean": 0.0, "low": 0.0, "high": 0.0}
    diff = paired_difference(a, b, n=200, seed=1)
    assert diff == paired_difference(a, b, n=200, seed=1) and diff["mean"] == pytest.approx(float((a - b).mean()))
    with pytest.raises(ValueError):
        paired_difference(a, b[:1])


# ---------------------------------------------------------------------------- on the fixtures
@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('eval') / 'eval.db'}")
    load_directory(engine, FIXTURES)
    with engine.connect() as c:
        yield c


def _only(ts: TrainingSet, mask: np.ndarray) -> TrainingSet:
    return TrainingSet(ts.world, ts.pairs.subset(mask), ts.levels[mask], ts.grade[mask], ts.time[mask], ts.participant[mask])


def test_the_correction_never_reads_the_hold_out(conn):
    """Fitted with the hold-out present (its labels flipped, too) or with its rows and events
    removed: the same held-out model, the same sampled negatives, the same choice."""
    ts, events = training_set(conn), load_events(conn)
    cutoff = time_cutoff(ts, 0.25)
    mask = ts.time.astype("datetime64[s]") <= cutoff
    flipped = TrainingSet(ts.world, ts.pairs, ts.levels, np.where(mask, ts.grade, 3 - np.minimum(ts.grade, 1) * 3), ts.time, ts.participant)
    alone = _only(ts, mask)
    early = events[pd.to_datetime(events["occurred_at"]) <= pd.Timestamp(cutoff)]
    c = Correction(5, 0.25)
    np.testing.assert_array_equal(
        sampled_negatives(flipped, mask, 5, events=events), sampled_negatives(alone, np.ones(len(alone.y), bool), 5, events=early)
    )
    a = fit_on(flipped, mask, l2=1.0, smooth=10.0, correction=c, events=events)
    b = fit_on(alone, np.ones(len(alone.y), bool), l2=1.0, smooth=10.0, correction=c, events=early)
    for wa, wb in zip(a.level_weights, b.level_weights):
        np.testing.assert_allclose(wa, wb, atol=1e-9)
    assert a.intercept == pytest.approx(b.intercept)
    grid = (Correction(0), c)
    choice_a = choose_correction(flipped, mask, l2=1.0, smooth=10.0, grid=grid, events=events)
    choice_b = choose_correction(alone, np.ones(len(alone.y), bool), l2=1.0, smooth=10.0, grid=grid, events=early)
    assert choice_a == choice_b


def test_sampled_negatives_are_eligible_unsuggested_openings(conn):
    ts = training_set(conn)
    mask = np.zeros(len(ts.y), bool)
    mask[:40] = True
    neg = sampled_negatives(ts, mask, 3)
    assert 0 < len(neg) <= 3 * 40 and neg.shape[1] == ts.levels.shape[1]
    assert (sampled_negatives(ts, mask, 3) == neg).all()  # seeded


def test_training_reports_full_ranking_and_writes_a_readable_card(conn, tmp_path):
    model = train(conn, correction="auto", bootstrap=200)
    fr = model.card["evaluation"]["full_ranking"]
    for name in ("model", "baseline_distance", "baseline_occupation", "baseline_tfidf"):
        for m in ("recall@10", "ndcg@10", "mrr"):
            cell = fr[name][m]
            assert 0 <= cell["low"] <= cell["mean"] <= cell["high"] <= 1
    assert fr["participants"] > 20 and fr["queries"] >= fr["participants"]
    assert fr["model"]["recall@10"]["mean"] > fr["baseline_distance"]["recall@10"]["mean"]
    assert model.card["correction"]["chosen"] and model.card["correction"]["validation"]
    cal = model.card["evaluation"]["calibration"]
    assert len(cal) == 10 and sum(c["pairs"] for c in cal) == model.card["evaluation"]["holdout"]["pairs"]

    _, card_path = model.save(tmp_path)
    data = json.loads(card_path.read_text())
    data["fairness"] = {"age band": [{"group": "30–39", "participants": 41, "exposure": 0.93}, {"group": "<30", "participants": None}]}
    page = card_page.write(data, tmp_path)
    text = page.read_text()
    assert "## Full ranking" in text and "| trained model |" in text and "## Fairness" in text and "30–39" in text
    for png in card_page.pictures(model.version).values():
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png})" in text


def test_evaluated_model_scorer_is_the_engine_score(conn):
    """model_scorer ranks by the model's probability over the same levels the engine computes."""
    ts = training_set(conn)
    model = fit_on(ts, np.ones(len(ts.y), bool), l2=1.0, smooth=10.0)
    np.testing.assert_allclose(model_scorer(model)(ts.pairs, ts.levels), model.score(ts.levels))
