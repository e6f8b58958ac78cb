"""The nightly promotion gate (issue 13 §3): `matching refresh --auto-promote` serves a new
candidate only when it is not worse beyond noise (paired bootstrap over participants) and does
not widen the largest exposure gap beyond the margin; otherwise the served model stays and the
refusal, with its figures, is on the run (`GET /v1/runs`). And feedback posted through the API
is in the next training set."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from matching import gate, registry
from matching.scoring import ScoringModel
from matching.store import tables as t
from tests.conftest import SECRET, TODAY, db_engine, settings_for

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ScoringModel.load(ROOT / "models")


def _copy(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def _models(tmp: Path) -> Path:
    """The shipped model, served, in a model directory of its own."""
    models = tmp / "models"
    models.mkdir()
    for suffix in (".joblib", ".json"):
        shutil.copy(ROOT / "models" / f"matcher-{SHIPPED.version}{suffix}", models / f"matcher-{SHIPPED.version}{suffix}")
    (models / "LATEST").write_text(SHIPPED.version + "\n")
    return models


def _candidate(models: Path, version: str, weights: list[np.ndarray], trained_at: str) -> str:
    card = {"trained_at": trained_at}
    ScoringModel(version, SHIPPED.criteria, weights, SHIPPED.intercept, card).save(models)
    return version


# ------------------------------------------------------------------ the bootstrap


def test_the_paired_bootstrap_sees_a_real_drop_and_not_noise():
    rng = np.random.default_rng(0)
    served = pd.Series(rng.random(60), index=[f"P-{i}" for i in range(60)])
    same = gate.paired_bootstrap(served, served.copy())
    assert same["difference"] == 0 and same["ci_low"] == 0 and same["ci_high"] == 0
    worse = gate.paired_bootstrap(served, served - 0.2 + rng.normal(0, 0.05, 60))
    assert worse["ci_high"] < 0 and worse["participants"] == 60
    noisy = gate.paired_bootstrap(served, served + rng.normal(0, 0.3, 60))
    assert noisy["ci_low"] < 0 < noisy["ci_high"]
    # only participants both models score count, paired by id
    part = gate.paired_bootstrap(served, served.iloc[:10][::-1])
    assert part["participants"] == 10 and part["difference"] == 0


# ------------------------------------------------------------------ the verdict, in process


def test_the_exposure_gap_margin_decides_when_the_ranking_is_the_same(base_db, tmp_path):
    """With the ranking figure equal for both (the pluggable figure), only the exposure gap
    decides. Served: the shipped weights reversed (its largest gap is narrower); candidate: the
    shipped model, which widens it — refused under the default margin, promoted under a wide
    one. The candidate's card gets the fairness report either way; judging moves no pointer."""
    models = tmp_path / "models"
    models.mkdir()
    served = _candidate(models, "9.0000bad0", [-w for w in SHIPPED.level_weights], "2000-01-01T00:00:00+00:00")
    (models / "LATEST").write_text(served + "\n")
    cand = _candidate(models, "9.0000feed", [w.copy() for w in SHIPPED.level_weights], "2099-01-01T00:00:00+00:00")
    assert gate.candidate(models) == cand

    def same_everywhere(model: ScoringModel) -> pd.Series:
        return pd.Series(0.5, index=[f"P-{i:06d}" for i in range(1, 41)])

    db = _copy(base_db, tmp_path / "gate.db")
    with db_engine(settings_for(db, models)).connect() as conn:
        strict = gate.judge(conn, models, cand, TODAY, figure=same_everywhere, exposure_margin=0.05)
        loose = gate.judge(conn, models, cand, TODAY, figure=same_everywhere, exposure_margin=0.5)
    exp = strict.detail["exposure"]
    assert exp["candidate_gap"] > exp["served_gap"] + 0.05
    assert strict.decision == "refused" and strict.detail["reasons"] == [strict.detail["reasons"][0]]
    assert "exposure gap" in strict.detail["reasons"][0] and strict.detail["ranking"]["difference"] == 0
    assert loose.decision == "promoted"

    def no_history(model: ScoringModel) -> pd.Series:
        raise ValueError("not enough outcome history to train on (0 suggested pairs)")

    with db_engine(settings_for(db, models)).connect() as conn:
        blind = gate.judge(conn, models, cand, TODAY, figure=no_history, exposure_margin=0.5)
    assert blind.decision == "refused" and "without evidence" in blind.detail["reasons"][0]
    card = registry.card(models, cand)
    assert card["fairness"]["source"]["model_version"] == cand and card["fairness"]["min_cell"] == 10
    assert registry.served(models) == served


# ------------------------------------------------------------------ the nightly routine, through the CLI


@pytest.fixture()
def nightly(base_db, tmp_path):
    db = _copy(base_db, tmp_path / "nightly.db")
    models = _models(tmp_path)
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{db}",
        "MATCHING_MODEL_DIR": str(models),
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_TODAY": TODAY.isoformat(),
        "MATCHING_TOP_K": "10",
        "COLUMNS": "200",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "matching.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    return db, models, cli


def test_the_gate_refuses_a_worse_candidate_keeps_the_served_model_and_promotes_a_sound_one(nightly):
    db, models, cli = nightly
    worse = _candidate(models, "9.0000bad0", [-w for w in SHIPPED.level_weights], "2099-01-01T00:00:00+00:00")

    res = cli("refresh", "--auto-promote", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert f"refused {worse}" in res.stderr and f"still serving {SHIPPED.version}" in res.stderr
    assert registry.served(models) == SHIPPED.version and registry.history(models) == []

    settings = settings_for(db, models)
    client = TestClient(create_app(settings))
    token = cli("token", "--role", "admin", "--sub", "data-owner").stdout.strip()
    runs = client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"}).json()
    run = runs["items"][0]
    assert run["serving"] and run["model_version"] == SHIPPED.version
    assert run["gate_candidate"] == worse and run["gate_decision"] == "refused"
    ranking = run["gate_detail"]["ranking"]
    assert ranking["candidate"] < ranking["served"] and ranking["ci_high"] < 0 and ranking["participants"] >= 10
    assert run["gate_detail"]["served"] == SHIPPED.version and "beyond noise" in run["gate_detail"]["reasons"][0]
    assert {"served_gap", "candidate_gap", "margin"} <= set(run["gate_detail"]["exposure"])
    assert "fairness" in registry.card(models, worse)

    # A sound candidate (the served weights, retrained later): promoted by the gate, audited.
    sound = _candidate(models, "9.0000600d", [w.copy() for w in SHIPPED.level_weights], "2099-01-02T00:00:00+00:00")
    res = cli("refresh", "--auto-promote", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert registry.served(models) == sound
    history = registry.history(models)
    assert [(h["action"], h["previous"], h["version"], h["by"]) for h in history] == [("promote", SHIPPED.version, sound, "nightly-gate")]
    run = client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]
    assert (run["gate_candidate"], run["gate_decision"], run["model_version"]) == (sound, "promoted", sound)
    with db_engine(settings).connect() as conn:
        audit = conn.execute(select(t.audit_log.c.sub, t.audit_log.c.action, t.audit_log.c.detail)).all()
    moves = [a for a in audit if a.action == "model_promote"]
    assert len(moves) == 1 and moves[0].sub == "nightly-gate" and json.loads(moves[0].detail)["version"] == sound

    # Nothing newer than the served model: the next night is not gated.
    res = cli("refresh", "--auto-promote", "--no-progress")
    assert res.returncode == 0 and "no candidate newer" in res.stderr
    run = client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]
    assert run["gate_decision"] is None and run["model_version"] == sound
    # A non-admin, non-batch token never sees the runs (and so the verdicts).
    adviser = cli("token", "--role", "adviser", "--office", "nav-heimdal").stdout.strip()
    assert client.get("/v1/runs", headers={"Authorization": f"Bearer {adviser}"}).status_code == 403


# ------------------------------------------------------------------ feedback is training data


def test_feedback_posted_through_the_api_is_in_the_next_training_set(base_db, tmp_path, auth):
    from matching.training import training_set

    db = _copy(base_db, tmp_path / "feedback.db")
    settings = settings_for(db, ROOT / "models")
    client = TestClient(create_app(settings))
    with db_engine(settings).connect() as conn:
        before = training_set(conn)
        pid, office = conn.execute(
            select(t.participants.c.participant_id, t.participants.c.office_id).order_by(t.participants.c.participant_id)
        ).first()
        tried = {o for p, o in zip(before.world.participants.ids[before.pairs.p], before.world.openings.ids[before.pairs.o]) if p == pid}
        oid = next(o for o in conn.execute(select(t.openings.c.opening_id).order_by(t.openings.c.opening_id)).scalars() if o not in tried)
    headers = auth("adviser", office)
    for event, at in (("suggested", "2026-11-10T09:00:00Z"), ("interview", "2026-11-12T10:00:00Z")):
        body = {"participant_id": pid, "opening_id": oid, "event": event, "occurred_at": at}
        assert client.post("/v1/feedback", json=body, headers=headers).status_code == 201
    with db_engine(settings).connect() as conn:
        after = training_set(conn)
    assert len(after.grade) == len(before.grade) + 1
    ids = list(zip(after.world.participants.ids[after.pairs.p], after.world.openings.ids[after.pairs.o]))
    i = ids.index((pid, oid))
    assert after.grade[i] == 1 and after.y[i] == 1
    assert str(after.time[i])[:10] == "2026-11-10"  # features as of the first suggestion
