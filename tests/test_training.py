"""Training on the fixture history: a real, reproducible model with honest metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matching.criteria import ALL
from matching.scoring import ScoringModel, fit
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.training import train, training_set

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('train') / 'train.db'}")
    load_directory(engine, FIXTURES)
    with engine.connect() as c:
        yield c


def test_training_is_reproducible_and_beats_the_distance_baseline(conn, tmp_path):
    a = train(conn)
    b = train(conn)
    assert a.version == b.version
    for wa, wb in zip(a.level_weights, b.level_weights):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    holdout = a.card["evaluation"]["holdout"]
    assert holdout["pairs"] > 100 and 0 < holdout["positives"] < holdout["pairs"]
    assert holdout["model"]["roc_auc"] > holdout["baseline_distance"]["roc_auc"]
    assert holdout["model"]["ndcg@10"] > holdout["baseline_distance"]["ndcg@10"]
    assert 0.5 < holdout["model"]["roc_auc"] < 0.99  # learnable, but hidden factors remain

    artefact, card_path = a.save(tmp_path)
    card = json.loads(card_path.read_text())
    for key in ("version", "training_data", "evaluation", "libraries", "features", "level_weights", "intercept", "not_learned"):
        assert key in card
    assert card["not_learned"] == {} and all(f["not_learned"] == [] for f in card["features"])  # every level occurs in the fixtures
    assert not (tmp_path / "LATEST").exists()  # saving makes a candidate; matching.registry serves it
    loaded = ScoringModel.load(tmp_path, a.version)
    assert loaded.version == a.version
    levels = training_set(conn).levels
    np.testing.assert_allclose(loaded.raw(levels), a.raw(levels))


def test_learned_weights_are_monotone_in_every_criterion(conn):
    model = train(conn)
    for name, w in zip(model.criteria, model.level_weights):
        assert np.all(np.diff(w) >= -1e-12), name


def test_contributions_are_relative_to_the_neutral_level_and_sum_to_the_raw_score(conn):
    ts = training_set(conn)
    model = fit(ts.levels, ts.y, ALL)
    contrib = model.contributions(ts.levels)
    for j, crit in enumerate(ALL):
        ref = crit.levels.neutral
        assert model.level_weights[j][ref] == 0.0, crit.name
        column = contrib[:, j]
        assert (column[ts.levels[:, j] > ref] >= 0).all() and (column[ts.levels[:, j] < ref] <= 0).all(), crit.name
    np.testing.assert_allclose(model.intercept + contrib.sum(axis=1), model.raw(ts.levels))
    # a model saved centred on the training mean (before the neutral reference) loads with the same raw scores
    centred = [w - w[ts.levels[:, j]].mean() for j, w in enumerate(model.level_weights)]
    shift = sum(float(w[ts.levels[:, j]].mean()) for j, w in enumerate(model.level_weights))
    old = {**model.to_dict(), "intercept": model.intercept + shift, "level_weights": {c.name: list(w) for c, w in zip(ALL, centred)}}
    np.testing.assert_allclose(ScoringModel.from_dict(old).raw(ts.levels), model.raw(ts.levels), atol=1e-12)


def test_shipped_model_is_the_one_training_on_the_fixtures_produces(conn):
    shipped = ScoringModel.load(ROOT / "models")
    assert shipped.version == train(conn).version


def test_no_two_adjacent_observed_levels_score_the_same(conn):
    """The steps are posterior means under the monotone prior: a step the data cannot tell
    from zero is small but above it (the penalised fit's mode put several exactly at 0, so
    adjacent levels scored the same and lists tied); a level no pair has still adds nothing."""
    ts = training_set(conn)
    mode = fit(ts.levels, ts.y, ALL, smooth=10.0, steps="mode")
    mean = fit(ts.levels, ts.y, ALL, smooth=10.0, steps="mean")
    flat_mode = sum(int((np.diff(w) == 0).sum()) for w in mode.level_weights)
    assert flat_mode > 0  # the fixtures do flatten some steps at the mode
    for name, w in zip(mean.criteria, mean.level_weights):
        assert (np.diff(w) > 0).all(), name
    # a level without training pairs: its step stays exactly 0 (it scores as the level below)
    levels = ts.levels.copy()
    levels[levels[:, 0] == 2, 0] = 1
    held = fit(levels, ts.y, ALL, smooth=10.0)
    assert held.level_weights[0][2] == held.level_weights[0][1] and held.card["not_learned"] == {"occupation": [2]}


def test_posterior_mean_steps_are_the_truncated_normal_means():
    from scipy.stats import truncnorm

    from matching.scoring import posterior_mean_steps

    mode = np.array([0.0, 0.0, 0.8, 0.3])
    gradient = np.array([0.02, 0.0, 0.0, 0.0])  # the first pressed against the bound
    curvature = np.array([0.05, 0.05, 0.05, 0.05])
    n = 400
    out = posterior_mean_steps(mode, gradient, curvature, n, np.array([False, False, False, True]))
    sigma = 1 / np.sqrt(n * curvature)
    mu = mode - gradient / curvature
    for k in range(3):
        expected = truncnorm.mean((0 - mu[k]) / sigma[k], np.inf, loc=mu[k], scale=sigma[k])
        assert out[k] == pytest.approx(expected, rel=1e-9)
    assert 0 < out[0] < out[1] < sigma[1]  # pressed against the bound: smaller than a free zero
    assert out[2] == pytest.approx(0.8, rel=1e-3)  # far above its uncertainty: about the mode
    assert out[3] == 0.0  # held at 0
