"""The fairness report (issue 13 §4): exposure, list quality and outcomes by group, small cells
suppressed (and their complements), admin only and audited; age is reported on, never matched on."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from matching import fairness
from matching.scoring import ScoringModel
from matching.store import tables as t
from matching.world import Participants
from tests.conftest import SECRET, TODAY, db_engine

ROOT = Path(__file__).resolve().parent.parent
URL = "/v1/reports/fairness"


def _shown_cells_are_large_enough(rep: dict, min_cell: int) -> None:
    """Every shown count is 0 or ≥ min_cell; a figure is shown only with its count; no family
    of a grouping has exactly one suppressed cell among several non-empty ones."""
    for dim in rep["dimensions"]:
        for count, figures in fairness.FAMILIES.items():
            hidden = [g for g in dim["groups"] if count in g["suppressed"]]
            for g in dim["groups"]:
                if count in g["suppressed"]:
                    assert g[count] is None and all(g[f] is None and f in g["suppressed"] for f in figures), (dim["name"], g)
                else:
                    assert g[count] == 0 or g[count] >= min_cell, (dim["name"], g)
            assert len(hidden) != 1, (dim["name"], count)


# ------------------------------------------------------------------ the suppression rule


def _rows(counts: list[int]) -> list[dict]:
    return [{"group": f"g{i}", **dict.fromkeys(fairness.COUNTS, n), **dict.fromkeys(fairness.FIGURES, 0.5)} for i, n in enumerate(counts)]


def test_a_small_cell_and_the_next_smallest_are_suppressed():
    rows = fairness.suppress(_rows([4, 50, 30, 0]), 10)
    assert [r["participants"] for r in rows] == [None, 50, None, 0]
    assert rows[0]["exposure"] is None and "exposure" in rows[0]["suppressed"] and rows[2]["start_rate"] is None
    assert rows[1]["exposure"] == 0.5 and rows[1]["suppressed"] == []
    # two small cells hide each other: nothing more is withheld
    rows = fairness.suppress(_rows([4, 7, 30, 40]), 10)
    assert [r["participants"] for r in rows] == [None, None, 30, 40]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.integers(2, 15))
def test_no_shown_cell_rests_on_fewer_than_the_minimum_and_none_is_alone_suppressed(counts, min_cell):
    rows = fairness.suppress(_rows(counts), min_cell)
    rep = {"dimensions": [{"name": "x", "groups": rows}]}
    if sum(1 for n in counts if n > 0) >= 2:
        _shown_cells_are_large_enough(rep, min_cell)
    for r, n in zip(rows, counts):
        assert (r["participants"] is None) == ("participants" in r["suppressed"])
        if r["participants"] is not None:
            assert r["participants"] == n and (n == 0 or n >= min_cell)


# ------------------------------------------------------------------ the report on the fixtures


def _copy(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def test_the_served_runs_report_suppresses_small_offices_and_shows_every_grouping(published):
    with db_engine(published.settings).connect() as conn:
        rep = fairness.served_run_report(conn)
    assert rep["source"] == {"kind": "run", "run_id": published.second_run, "model_version": ScoringModel.load(ROOT / "models").version}
    names = [d["name"] for d in rep["dimensions"]]
    assert {"age_band", "adaptation_needs", "norwegian_level", "driving_licence", "home", "office"} <= set(names)
    assert any(n.startswith("adaptation_needs:") for n in names)
    _shown_cells_are_large_enough(rep, fairness.MIN_CELL)
    offices = next(d for d in rep["dimensions"] if d["name"] == "office")["groups"]
    assert any("participants" in g["suppressed"] for g in offices)  # the fixtures' small offices
    # the shown groups add up to no more than everyone (suppressed ones are missing, not zero)
    assert sum(g["participants"] or 0 for g in offices) < rep["overall"]["participants"]
    assert 0 < rep["overall"]["exposure"] < 1 and rep["overall"]["mean_distance_km"] > 0
    ages = next(d for d in rep["dimensions"] if d["name"] == "age_band")["groups"]
    assert {g["group"] for g in ages} >= {"25–34", "35–49"}  # the fixtures carry birth years


def test_age_is_never_matched_on(world):
    """The lists and scores a model gives are the same whatever the birth years say."""
    from matching.store.snapshot import load_world

    model = ScoringModel.load(ROOT / "models")
    with db_engine(world).connect() as conn:
        w = load_world(conn)
    before = fairness.from_model(w, model, TODAY)
    frame = w.participants.frame.copy()
    frame["birth_year"] = np.random.default_rng(1).integers(1950, 2008, len(frame))
    other = w.with_participants(Participants(frame))  # the same openings (and their employers' history)
    after = fairness.from_model(other, model, TODAY)
    assert np.array_equal(before.appearances, after.appearances)
    assert np.allclose(before.mean_score, after.mean_score, equal_nan=True)
    assert not fairness.groups(w, TODAY)["age_band"].equals(fairness.groups(other, TODAY)["age_band"])


# ------------------------------------------------------------------ HTTP


def test_admin_reads_the_report_and_the_read_is_audited(pub_client, auth):
    res = pub_client.get(URL, headers=auth("admin", sub="fair-admin"))
    assert res.status_code == 200, res.text
    rep = res.json()
    assert rep["source"]["kind"] == "run" and rep["min_cell"] == 10 and rep["top_n"] == 10
    _shown_cells_are_large_enough(rep, 10)
    assert any(g["suppressed"] for d in rep["dimensions"] for g in d["groups"])
    version = ScoringModel.load(ROOT / "models").version
    res = pub_client.get(URL, params={"model": version}, headers=auth("admin", sub="fair-admin"))
    assert res.status_code == 200 and res.json()["source"] == {"kind": "model", "run_id": None, "model_version": version}
    _shown_cells_are_large_enough(res.json(), 10)
    audit = pub_client.get("/v1/audit", params={"sub": "fair-admin"}, headers=auth("admin")).json()["items"]
    assert [a["action"] for a in audit].count("read_fairness_report") == 2


def test_unknown_or_malformed_model_is_a_clear_4xx(pub_client, auth):
    assert pub_client.get(URL, params={"model": "1.nosuch"}, headers=auth("admin")).status_code == 404
    assert pub_client.get(URL, params={"model": "../LATEST"}, headers=auth("admin")).status_code == 422


def test_no_served_run_is_a_404(client, auth):
    res = client.get(URL, headers=auth("admin"))
    assert res.status_code == 404 and "no published run" in res.json()["detail"]


@pytest.mark.parametrize("role", ["adviser", "liaison", "batch"])
def test_non_admins_are_refused_and_the_refusal_is_audited(pub_client, auth, role):
    sub = f"fair-{role}"
    res = pub_client.get(URL, headers=auth(role, "nav-heimdal", sub=sub))
    assert res.status_code == 403
    audit = pub_client.get("/v1/audit", params={"sub": sub}, headers=auth("admin")).json()["items"]
    assert any(a["action"] == f"refused GET {URL}" for a in audit)
    assert pub_client.get(URL).status_code == 401


# ------------------------------------------------------------------ the command line


def test_the_cli_report_suppresses_small_cells_as_table_and_json(published, tmp_path):
    db = _copy(Path(published.settings.sqlite_path()), tmp_path / "cli.db")
    env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{db}",
        "MATCHING_MODEL_DIR": str(ROOT / "models"),
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_TODAY": TODAY.isoformat(),
        "COLUMNS": "200",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "matching.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    res = cli("report", "fairness", "--json", "--by", "kari")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    _shown_cells_are_large_enough(rep, 10)
    hidden = {g["group"] for d in rep["dimensions"] if d["name"] == "office" for g in d["groups"] if "participants" in g["suppressed"]}
    assert hidden
    res = cli("report", "fairness")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if any(f" {o} " in line for o in hidden)]
    assert lines and all("suppressed" in line for line in lines)
    assert not any(ch.isdigit() for line in lines for ch in line.split("│", 2)[-1])  # no figure of a hidden office
    res = cli("report", "fairness", "--model", "1.nosuch")
    assert res.returncode == 2 and "no model version" in res.stderr
    engine = db_engine(published.settings.model_copy(update={"database_url": f"sqlite:///{db}"}))
    with engine.connect() as conn:
        rows = conn.execute(select(t.audit_log.c.sub, t.audit_log.c.action).where(t.audit_log.c.action == "read_fairness_report")).all()
    assert ("kari", "read_fairness_report") in [tuple(r) for r in rows]


def test_groups_read_the_profile_not_the_lists(world):
    from matching.store.snapshot import load_world

    with db_engine(world).connect() as conn:
        w = load_world(conn)
    g = fairness.groups(w, TODAY)
    f = w.participants.frame
    assert len(g) == len(f)
    assert (g["driving_licence"] == np.where([bool(list(x)) for x in f["driving_licences"]], "yes", "no")).all()
    assert (g["adaptation_needs"] == np.where([bool(list(x)) for x in f["adaptation_needs"]], "yes", "no")).all()
    assert set(g["home"]) <= {"urban", "rural", "unknown"} and {"urban", "rural"} <= set(g["home"])
    assert fairness.age_band(None, TODAY) == "unknown" and fairness.age_band(2010, TODAY) == "under 25"
    assert fairness.age_band(1960, TODAY) == "60 and over" and fairness.age_band(pd.NA, TODAY) == "unknown"
