"""The model registry (issue 13 §3): train makes a candidate; `matching model list | show |
promote | rollback` move the served pointer, with a history and audit rows; the running API
serves a promotion on its next request. And: a level never observed in training learns nothing."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from matching.criteria import ALL, BY_NAME
from matching.scoring import ScoringModel, fit
from matching.store import tables as t
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.training import training_set

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
SHIPPED = ScoringModel.load(ROOT / "models")
SECRET = "c" * 48


def _cli(tmp_path: Path, models: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
        "MATCHING_MODEL_DIR": str(models),
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_TODAY": "2026-11-16",
        "COLUMNS": "200",
    }
    return subprocess.run([sys.executable, "-m", "matching.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _two_models(models: Path) -> tuple[str, str]:
    """The shipped model and a variant of it (other weights, other version), neither served."""
    models.mkdir(parents=True, exist_ok=True)
    a = SHIPPED.version
    for suffix in (".joblib", ".json"):
        shutil.copy(ROOT / "models" / f"matcher-{a}{suffix}", models / f"matcher-{a}{suffix}")
    variant = ScoringModel("9.0000beef", SHIPPED.criteria, [w * 2 for w in SHIPPED.level_weights], SHIPPED.intercept, {})
    variant.save(models)
    return a, variant.version


def _served(models: Path) -> str | None:
    latest = models / "LATEST"
    return latest.read_text().strip() if latest.exists() else None


def _audit_rows(tmp_path: Path) -> list[dict]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))]
    engine.dispose()
    return rows


# ------------------------------------------------------------------ not learned levels


@pytest.fixture(scope="module")
def ts(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reg') / 'train.db'}")
    load_directory(engine, FIXTURES)
    with engine.connect() as conn:
        yield training_set(conn)
    engine.dispose()


def test_a_level_never_observed_in_training_learns_no_weight_and_is_listed_as_not_learned(ts):
    j_occ = ALL.index(BY_NAME["occupation"])
    j_ind = ALL.index(BY_NAME["industry"])
    j_dist = ALL.index(BY_NAME["distance"])
    levels = ts.levels.copy()
    assert (levels[:, j_occ] == 2).any()  # observed in the fixtures: the change below removes it
    levels[levels[:, j_occ] == 2, j_occ] = 3  # occupation level 2 never occurs
    levels[:, j_ind] = 1  # industry never varies
    top = BY_NAME["distance"].n_levels - 1
    levels[levels[:, j_dist] == top, j_dist] = top - 1  # the best distance level never occurs

    model = fit(levels, ts.y, ALL, smooth=10.0)
    occ, ind, dist = model.level_weights[j_occ], model.level_weights[j_ind], model.level_weights[j_dist]
    assert occ[2] == occ[1]  # step into the unseen level: 0 (it scores as the level below)
    assert occ[3] > occ[1]  # the step the data do identify is still learned
    assert np.all(ind == 0.0)  # a criterion that never varied: every level weight 0
    assert dist[top] == dist[top - 1]
    assert model.card["not_learned"] == {"occupation": [2], "industry": [0, 2], "distance": [top]}
    assert all(np.all(np.diff(w) >= -1e-12) for w in model.level_weights)  # still monotone

    # every level observed (the fixtures as they are): nothing is fixed, nothing listed
    assert fit(ts.levels, ts.y, ALL, smooth=10.0).card["not_learned"] == {}


# ------------------------------------------------------------------ the CLI


def test_promote_show_list_and_rollback_are_recorded_and_audited(tmp_path):
    models = tmp_path / "models"
    a, b = _two_models(models)

    res = _cli(tmp_path, models, "model", "list")
    assert res.returncode == 0, res.stderr
    assert a in res.stdout and b in res.stdout and "(served)" not in res.stdout
    assert "0.8" in res.stdout or "0.7" in res.stdout or "0.6" in res.stdout  # the shipped card's hold-out AUC

    res = _cli(tmp_path, models, "model", "promote", "1.nosuch", "--reason", "typo")
    assert res.returncode == 2 and "no model version '1.nosuch'" in res.stderr and a in res.stderr
    res = _cli(tmp_path, models, "model", "promote", a)  # no reason: refused
    assert res.returncode == 2 and "--reason" in res.stderr
    res = _cli(tmp_path, models, "model", "promote", a, "--reason", "   ")
    assert res.returncode == 2 and "reason" in res.stderr
    res = _cli(tmp_path, models, "model", "rollback", "--reason", "nothing served yet")
    assert res.returncode == 2 and "roll back" in res.stderr
    assert _served(models) is None and not (models / "HISTORY.jsonl").exists() and _audit_rows(tmp_path) == []

    res = _cli(tmp_path, models, "model", "promote", a, "--reason", "the fixtures' model [red]as shipped[/red]", "--by", "kari")
    assert res.returncode == 0, res.stderr
    assert _served(models) == a
    res = _cli(tmp_path, models, "model", "promote", b, "--reason", "try the variant")
    assert res.returncode == 0, res.stderr
    assert _served(models) == b
    res = _cli(tmp_path, models, "model", "promote", b, "--reason", "again")
    assert res.returncode == 2 and "already" in res.stderr

    res = _cli(tmp_path, models, "model", "list")
    assert res.returncode == 0, res.stderr
    served_lines = [line for line in res.stdout.splitlines() if "(served)" in line]
    assert len(served_lines) == 1 and b in served_lines[0]
    assert "by kari: the fixtures' model [red]as shipped[/red]" in res.stdout and f"{a} → {b}" in res.stdout

    res = _cli(tmp_path, models, "model", "show", a)
    assert res.returncode == 0, res.stderr
    card = json.loads(res.stdout)
    assert card["version"] == a and "evaluation" in card
    res = _cli(tmp_path, models, "model", "show", "1.nosuch")
    assert res.returncode == 2 and "no model version" in res.stderr

    res = _cli(tmp_path, models, "model", "rollback", "--reason", "variant ranks worse", "--by", "ola")
    assert res.returncode == 0, res.stderr
    assert _served(models) == a
    res = _cli(tmp_path, models, "model", "rollback", "--reason", "once more")  # a was the first served
    assert res.returncode == 2 and _served(models) == a

    history = [json.loads(line) for line in (models / "HISTORY.jsonl").read_text().splitlines()]
    assert [(h["action"], h["previous"], h["version"], h["by"]) for h in history] == [
        ("promote", None, a, "kari"),
        ("promote", a, b, getpass.getuser()),
        ("rollback", b, a, "ola"),
    ]
    audit = _audit_rows(tmp_path)
    assert [(r["action"], r["sub"], r["role"]) for r in audit] == [
        ("model_promote", "kari", "operator"),
        ("model_promote", getpass.getuser(), "operator"),
        ("model_rollback", "ola", "operator"),
    ]
    assert json.loads(audit[2]["detail"]) == {"version": a, "previous": b, "reason": "variant ranks worse"}


def test_a_model_this_code_cannot_load_is_never_served(tmp_path):
    models = tmp_path / "models"
    a, _ = _two_models(models)
    assert _cli(tmp_path, models, "model", "promote", a, "--reason", "start").returncode == 0
    broken = {**SHIPPED.to_dict(), "version": "9.broken00"}
    broken["level_weights"] = {**broken["level_weights"], "occupation": [0.0, 1.0]}  # wrong number of levels
    import joblib

    joblib.dump(broken, models / "matcher-9.broken00.joblib")
    res = _cli(tmp_path, models, "model", "promote", "9.broken00", "--reason", "should not serve")
    assert res.returncode == 2 and "cannot be served" in res.stderr
    assert _served(models) == a and len(_audit_rows(tmp_path)) == 1


def test_train_makes_a_candidate_unless_promoted_or_nothing_is_served(tmp_path):
    models = tmp_path / "models"
    a, b = _two_models(models)
    (models / f"matcher-{a}.joblib").unlink()  # training on the fixtures writes it again
    (models / f"matcher-{a}.json").unlink()
    assert _cli(tmp_path, models, "load", str(FIXTURES)).returncode == 0
    assert _cli(tmp_path, models, "model", "promote", b, "--reason", "served before training").returncode == 0

    res = _cli(tmp_path, models, "train")
    assert res.returncode == 0, res.stderr
    assert f"candidate {a} saved; still serving {b}" in res.stderr
    assert _served(models) == b and (models / f"matcher-{a}.joblib").exists()

    res = _cli(tmp_path, models, "train", "--promote", "--reason", "nightly", "--by", "batch")
    assert res.returncode == 0, res.stderr
    assert _served(models) == a
    last = json.loads((models / "HISTORY.jsonl").read_text().splitlines()[-1])
    assert (last["action"], last["version"], last["previous"], last["by"], last["reason"]) == ("promote", a, b, "batch", "nightly")

    fresh = tmp_path / "fresh"  # a fresh clone: nothing served, so the first model is
    res = _cli(tmp_path, fresh, "train")
    assert res.returncode == 0, res.stderr
    assert _served(fresh) == a
    assert "first model" in (fresh / "HISTORY.jsonl").read_text()


def test_moves_wait_for_one_another(tmp_path):
    import fcntl
    import time

    models = tmp_path / "models"
    a, b = _two_models(models)
    env_args = ("model", "promote", a, "--reason", "queued behind another move")
    with (models / ".registry.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another move in progress
        proc = subprocess.Popen(
            [sys.executable, "-m", "matching.cli", *env_args],
            cwd=ROOT,
            env={**os.environ, "MATCHING_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}", "MATCHING_MODEL_DIR": str(models)},
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not (tmp_path / "registry.db").exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # the command is up and migrating; give it time to reach the lock
        time.sleep(2)
        assert proc.poll() is None and _served(models) is None
        fcntl.flock(held, fcntl.LOCK_UN)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _served(models) == a


# ------------------------------------------------------------------ the running API


def test_the_running_api_serves_a_promotion_on_its_next_request(world, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    models = tmp_path / "models"
    a, b = _two_models(models)
    assert _cli(tmp_path, models, "model", "promote", a, "--reason", "start").returncode == 0
    client = TestClient(create_app(world.model_copy(update={"model_dir": models})))
    assert client.get("/healthz").json()["model_version"] == a
    assert _cli(tmp_path, models, "model", "promote", b, "--reason", "switch").returncode == 0
    assert client.get("/healthz").json()["model_version"] == b
    assert _cli(tmp_path, models, "model", "rollback", "--reason", "back").returncode == 0
    assert client.get("/healthz").json()["model_version"] == a
