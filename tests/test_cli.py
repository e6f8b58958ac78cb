"""The console script, run as a real process: load errors, tokens, train, refresh."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
SECRET = "c" * 48


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "MATCHING_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "MATCHING_SECRET_KEY": SECRET,
        "MATCHING_TODAY": "2026-11-16",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "matching.cli", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300
    )


def test_load_train_refresh_and_token(tmp_path):
    res = _run(tmp_path, "load", str(FIXTURES))
    assert res.returncode == 0, res.stderr
    assert "participants" in res.stderr

    models = tmp_path / "models"
    res = _run(tmp_path, "train", MATCHING_MODEL_DIR=str(models))
    assert res.returncode == 0, res.stderr
    assert "ROC AUC" in res.stderr and (models / "LATEST").exists()

    res = _run(tmp_path, "refresh", "--no-progress", MATCHING_MODEL_DIR=str(models))
    assert res.returncode == 0, res.stderr
    assert "published" in res.stderr

    res = _run(tmp_path, "token", "--role", "adviser", "--office", "nav-heimdal", "--sub", "kari")
    assert res.returncode == 0, res.stderr
    claims = jwt.decode(res.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "kari" and claims["role"] == "adviser" and claims["offices"] == ["nav-heimdal"]

    assert "warning" not in res.stderr
    res = _run(tmp_path, "token", "--role", "liaison")  # no office: it sees nothing, and says so
    assert res.returncode == 0 and jwt.decode(res.stdout.strip(), SECRET, algorithms=["HS256"])["offices"] == []
    assert "warning" in res.stderr and "--office" in res.stderr
    res = _run(tmp_path, "token", "--role", "admin")  # admins cover every office
    assert res.returncode == 0 and "warning" not in res.stderr

    res = _run(tmp_path, "token", "--role", "boss")
    assert res.returncode != 0 and "role" in res.stderr


def test_bad_directory_exits_2_and_lists_errors(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    with (data / "employers.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["orgnr"] = "123456780"
    with (data / "employers.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    res = _run(tmp_path, "load", str(data))
    assert res.returncode == 2
    assert "employers.csv:2: orgnr='123456780'" in res.stderr
    assert "nothing was written" in res.stderr


def test_load_of_an_isco_code_styrk_lacks_names_the_styrk_code_to_use(tmp_path):
    """5412 (police officers) is ISCO-08; STYRK-08 files them as 3355: the error says so."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    with (data / "participants.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["desired_styrk08"] = "5412"
    with (data / "participants.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    res = _run(tmp_path, "load", str(data))
    assert res.returncode == 2
    assert "participants.csv:2: desired_styrk08" in res.stderr
    assert "5412 is an ISCO-08 code; STYRK-08 files it as 3355" in res.stderr
    assert "nothing was written" in res.stderr


def test_refresh_refuses_both_a_local_cluster_and_a_scheduler(tmp_path):
    res = _run(tmp_path, "refresh", "--no-progress", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert res.returncode == 2
    assert "--workers" in res.stderr and "scheduler" in res.stderr
