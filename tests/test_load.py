"""`matching load`: every bad row is reported (file, line, field, value, why) and a rejected
import changes nothing already stored."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matching.store import tables as t
from matching.store.db import make_engine
from matching.store.load import LoadError, load_directory

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fixtures"


def _snapshot(engine) -> dict:
    with engine.connect() as conn:
        counts = {
            tbl.name: conn.execute(select(func.count()).select_from(tbl)).scalar()
            for tbl in (t.offices, t.employers, t.openings, t.participants, t.outcomes)
        }
        first = conn.execute(select(t.participants).order_by(t.participants.c.participant_id).limit(1)).one()
    return {"counts": counts, "first": tuple(first)}


def _edit(path: Path, line: int, **changes) -> dict:
    """Change fields of the row on a given file line (header = line 1); returns the old row."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    old = dict(rows[line - 2])
    rows[line - 2].update(changes)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return old


@pytest.fixture
def loaded(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'load.db'}")
    load_directory(engine, FIXTURES)
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    return engine, data


def test_fixtures_load_and_loading_twice_changes_nothing(loaded):
    engine, data = loaded
    before = _snapshot(engine)
    assert before["counts"]["participants"] >= 150 and before["counts"]["outcomes"] >= 1500
    load_directory(engine, data)
    assert _snapshot(engine) == before


def test_every_bad_row_is_listed_and_nothing_is_written(loaded):
    engine, data = loaded
    before = _snapshot(engine)
    emp = _edit(data / "employers.csv", 2, orgnr="123456789")  # fails mod-11 (check digit 5 expected? no)
    _edit(data / "employers.csv", 3, postal_code="0000")
    _edit(data / "participants.csv", 4, adaptation_needs="ERGONOMI|BAD_NEED", max_commute_km="-3")
    _edit(data / "openings.csv", 5, kind="internship")
    _edit(data / "outcomes.csv", 6, event="ghosted")
    _edit(data / "outcomes.csv", 7, participant_id="P-999999")
    # Make a change that would be visible if anything were written.
    _edit(data / "participants.csv", 2, max_commute_km="299")

    with pytest.raises(LoadError) as info:
        load_directory(engine, data)
    errors = {(e.file, e.line, e.field) for e in info.value.errors}
    assert ("employers.csv", 2, "orgnr") in errors
    assert ("employers.csv", 3, "postal_code") in errors
    assert ("participants.csv", 4, "adaptation_needs") in errors
    assert ("participants.csv", 4, "max_commute_km") in errors
    assert ("openings.csv", 5, "kind") in errors
    assert ("outcomes.csv", 7, "participant_id") in errors
    assert ("outcomes.csv", 6, "event") in errors
    text = str(info.value)
    assert "employers.csv:2: orgnr='123456789'" in text and "check digit" in text
    assert "BAD_NEED" in text and "unknown adaptation code" in text
    assert "unknown postal code" in text
    assert _snapshot(engine) == before
    assert emp["orgnr"] != "123456789"


def test_unknown_columns_duplicates_and_stray_files_are_rejected(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    with (data / "offices.csv").open("a", encoding="utf-8") as fh:
        fh.write("nav-heimdal,NAV Heimdal igjen,5001,7080\n")
    (data / "particpants.csv").write_text("oops\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(LoadError) as info:
        load_directory(engine, data)
    assert any(e.file == "particpants.csv" and "unexpected file" in e.message for e in info.value.errors)
    (data / "particpants.csv").unlink()
    with pytest.raises(LoadError) as info:
        load_directory(engine, data)
    assert any(e.file == "offices.csv" and "duplicate" in e.message for e in info.value.errors)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.participants)).scalar() == 0


def test_empty_or_missing_directory_is_a_clear_error(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    with pytest.raises(LoadError, match="no data files"):
        load_directory(engine, tmp_path)
    with pytest.raises(LoadError, match="not a directory"):
        load_directory(engine, tmp_path / "nope")


def test_outcomes_only_import_references_stored_rows(loaded, tmp_path):
    engine, data = loaded
    only = tmp_path / "only"
    only.mkdir()
    with (data / "outcomes.csv").open(newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    row.update(event_id="", occurred_at="2026-11-16T09:30:00", event="contacted", actor="veileder-test")
    with (only / "outcomes.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    before = _snapshot(engine)["counts"]["outcomes"]
    load_directory(engine, only)  # participant and opening are already stored
    load_directory(engine, only)  # and the same event again is not a duplicate
    assert _snapshot(engine)["counts"]["outcomes"] == before + 1


def test_a_file_that_is_not_utf8_is_a_listed_error(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    raw = (data / "offices.csv").read_bytes()
    (data / "offices.csv").write_bytes(raw.replace(b"NAV Heimdal", "NAV H\xe9imdal".encode("latin-1")))
    engine = make_engine(f"sqlite:///{tmp_path / 'z.db'}")
    with pytest.raises(LoadError) as info:
        load_directory(engine, data)
    assert any(e.file == "offices.csv" and "UTF-8" in e.message for e in info.value.errors)


def test_text_longer_than_its_column_is_a_listed_error_on_every_backend(loaded):
    """PostgreSQL refuses text longer than the column (a traceback, no row named) while SQLite
    stores it: the schema checks the column lengths itself (review finding)."""
    engine, data = loaded
    before = _snapshot(engine)
    _edit(data / "outcomes.csv", 2, actor="x" * 201)
    _edit(data / "participants.csv", 3, trusted_person="y" * 201)
    _edit(data / "employers.csv", 4, contact_email="z" * 190 + "@example.no")
    with pytest.raises(LoadError) as exc:
        load_directory(engine, data)
    text = str(exc.value)
    for where in ("outcomes.csv:2: actor", "participants.csv:3: trusted_person", "employers.csv:4: contact_email"):
        assert where in text
    assert "200 characters" in text
    assert _snapshot(engine) == before
