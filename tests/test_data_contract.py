"""Bad input gets a clear `file:line: field` error; nothing half written, nothing stored lost.

Through the public interfaces: the `matching load` / `generate` / `titles` commands (typer's
CliRunner, settings from the environment) and POST /v1/match for the bounded profile.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from matching import schema
from matching.cli import app
from matching.config import get_settings
from matching.csvsafe import safe_cell, safe_frame
from matching.store import tables as t
from matching.store.db import make_engine

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fixtures"
TODAY = "2026-11-16"  # the fixture world's reference date is 2026-11-15


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """run(*args, today=TODAY) → CliRunner result, against a database in tmp_path."""
    db = tmp_path / "contract.db"
    monkeypatch.setenv("MATCHING_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("MATCHING_SECRET_KEY", "c" * 48)

    def run(*args: str, today: str = TODAY, stdin: str | None = None):
        monkeypatch.setenv("MATCHING_TODAY", today)
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)
        finally:
            get_settings.cache_clear()

    run.db = db
    return run


def _data(tmp_path: Path, *names: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in names or schema.FILES:
        shutil.copy(FIXTURES / name, data / name)
    return data


def _edit(path: Path, line: int, **changes: str) -> None:
    """Change fields of the row on a physical file line (the fixtures have one line per row)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[line - 2].update(changes)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _rejected(res, *where: str) -> str:
    """The rejection text; asserts exit 2, no traceback, and each `file:line: field` is named."""
    text = res.stderr if res.stderr_bytes is not None else res.output
    assert res.exit_code == 2, res.output
    assert "Traceback" not in text and "nothing was written" in text
    for w in where:
        assert w in text, (w, text)
    return text


def _snapshot(db: Path) -> dict:
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        out = {
            tbl.name: conn.execute(select(tbl).order_by(*tbl.primary_key.columns)).all()
            for tbl in (t.offices, t.employers, t.openings, t.participants, t.outcomes)
        }
    engine.dispose()
    return out


# ------------------------------------------------------------------------------ 1. dates


def test_implausible_dates_are_listed_with_file_line_and_field(cli, tmp_path):
    data = _data(tmp_path)
    _edit(data / "openings.csv", 2, deadline="9999-12-31")
    _edit(data / "openings.csv", 3, published_at="0001-01-01")
    _edit(data / "openings.csv", 4, published_at="2026-10-01", deadline="2026-09-01")
    _edit(data / "openings.csv", 5, start_date="3026-01-01")
    _edit(data / "openings.csv", 6, start_date="1899-12-31")
    _edit(data / "participants.csv", 2, registered_at="2999-01-01")
    _edit(data / "participants.csv", 3, available_from="9999-12-31")
    _edit(data / "outcomes.csv", 2, occurred_at="2026-12-24T10:00")  # after the pinned today
    text = _rejected(
        cli("load", str(data)),
        "openings.csv:2: deadline='9999-12-31'",
        "openings.csv:3: published_at='0001-01-01'",
        "openings.csv:4: deadline='2026-09-01'",
        "openings.csv:5: start_date='3026-01-01'",
        "openings.csv:6: start_date='1899-12-31'",
        "participants.csv:2: registered_at='2999-01-01'",
        "participants.csv:3: available_from='9999-12-31'",
        "outcomes.csv:2: occurred_at=",
    )
    assert "is before published_at 2026-10-01" in text
    assert "not in the future" in text and "implausible date" in text
    own = [e for e in text.split("\n  ")[1:] if "not in this import or the database" not in e]
    assert len(own) == 8, own  # nothing else is wrong (rows referring to rejected rows aside)


def test_today_is_the_settings_today(cli, tmp_path):
    """MATCHING_TODAY pins the window: an event the day after tomorrow is the future."""
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv", "participants.csv", "outcomes.csv")
    _edit(data / "outcomes.csv", 2, occurred_at="2026-11-18T09:00")
    _rejected(cli("load", str(data), today="2026-11-16"), "outcomes.csv:2: occurred_at=")
    res = cli("load", str(data), today="2026-11-17")  # today + one day of tolerance
    assert res.exit_code == 0, res.output


def test_the_bounds_are_named_constants_that_fit_the_fixtures():
    assert schema.EARLIEST_DATE == dt.date(2000, 1, 1)
    assert schema.HAPPENED_TOLERANCE == dt.timedelta(days=1)
    assert dt.timedelta(days=365) < schema.PLANNING_HORIZON <= dt.timedelta(days=5 * 366)


def test_the_generated_world_validates_and_loads(cli, tmp_path):
    out = tmp_path / "gen"
    res = cli("generate", str(out), "--scope", "trondheim", "--participants", "30", "--openings", "60")
    assert res.exit_code == 0, res.output
    res = cli("load", str(out))
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------------------ 2. unreadable files


def test_an_empty_file_is_one_clear_error(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv")
    (data / "employers.csv").write_bytes(b"")
    text = _rejected(cli("load", str(data)), "employers.csv:1: (file)=")
    assert "empty file (0 bytes)" in text and "orgnr,name," in text
    assert text.count("\n  ") == 1


def test_nul_bytes_name_the_line_and_the_field(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv", "participants.csv")
    lines = (data / "participants.csv").read_bytes().split(b"\n")
    lines[149] = lines[149].replace(b",", b",\x00", 1)  # line 150, second cell (max_commute_km)
    lines[9] = lines[9].replace(b"7", b"7\x00", 1)  # line 10
    (data / "participants.csv").write_bytes(b"\n".join(lines))
    text = _rejected(cli("load", str(data)), "participants.csv:150: max_commute_km=", "participants.csv:10: ")
    assert "NUL" in text and text.count("\n  ") == 2


def test_a_bad_header_is_one_error_for_the_file(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv")
    raw = (data / "openings.csv").read_text(encoding="utf-8")
    (data / "openings.csv").write_text(raw.replace("opening_id,", "opening_ident,", 1), encoding="utf-8")
    text = _rejected(cli("load", str(data)), "openings.csv:1: (header)=")
    assert "unknown column(s) ['opening_ident']" in text and "missing required column(s) ['opening_id']" in text
    assert text.count("\n  ") == 1  # not one per row
    raw = (FIXTURES / "employers.csv").read_text(encoding="utf-8")
    (data / "employers.csv").write_text(raw.replace(",name,", ",name,name,", 1), encoding="utf-8")
    text = _rejected(cli("load", str(data)), "employers.csv:1: (header)=", "openings.csv:1: (header)=")
    assert "duplicate column(s) ['name']" in text and text.count("\n  ") == 2


def test_invalid_utf8_names_its_physical_line(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv", "participants.csv")
    lines = (data / "participants.csv").read_bytes().split(b"\n")
    lines[149] = lines[149].replace(b",", ",Bj\xf8rn,".encode("latin-1"), 1)[:-1]  # line 150
    (data / "participants.csv").write_bytes(b"\n".join(lines))
    text = _rejected(cli("load", str(data)), "participants.csv:150: (file)=")
    assert "not UTF-8" in text and "b'\\xf8'" in text


def test_line_numbers_count_the_lines_of_multi_line_records(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv", "participants.csv")
    _edit(data / "participants.csv", 3, trusted_person="Kari\nNordmann\n(søster)")  # a record of 3 lines
    _edit(data / "participants.csv", 10, max_commute_km="-1")  # row 9, now physical line 12
    with (data / "participants.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n\n")  # blank lines are not rows
    physical = (data / "participants.csv").read_text(encoding="utf-8").split("\n")
    assert physical[11].startswith(("7", "6", "5", "4", "3", "2", "1", "0"))  # line 12 is a row's first line
    text = _rejected(cli("load", str(data)), "participants.csv:12: max_commute_km='-1'")
    assert text.count("\n  ") == 1


# ------------------------------------------------------------------------------ 3. bounded sizes, formats, text


def test_sizes_formats_and_control_characters_are_checked_on_load(cli, tmp_path):
    data = _data(tmp_path, "offices.csv", "employers.csv", "openings.csv", "participants.csv")
    _edit(data / "participants.csv", 2, skills="|".join(f"skill {i}" for i in range(51)))
    _edit(data / "participants.csv", 3, desired_titles="x" * 201)
    _edit(data / "participants.csv", 4, participant_id="P 000004")
    _edit(data / "participants.csv", 5, postal_code="70800")
    _edit(data / "participants.csv", 6, desired_titles="Lager\x01medarbeider")
    _edit(data / "participants.csv", 7, experience="|".join(["5223:1"] * 31))
    _edit(data / "openings.csv", 2, required_skills="|".join(f"s{i}" for i in range(51)))
    _edit(data / "openings.csv", 3, styrk08="52231")
    text = _rejected(
        cli("load", str(data)),
        "participants.csv:2: skills=",
        "participants.csv:3: desired_titles.0=",
        "participants.csv:4: participant_id=",
        "participants.csv:5: postal_code=",
        "participants.csv:6: desired_titles.0=",
        "participants.csv:7: experience=",
        "openings.csv:2: required_skills=",
        "openings.csv:3: styrk08=",
    )
    assert "at most 50 items" in text and "at most 200 characters" in text
    assert "control character (U+0001" in text and "at most 30 items" in text


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "lager\udfff", "x\x1b[31m", "\x7f", "o\x85k"])
def test_text_with_nul_controls_or_lone_surrogates_is_invalid(value):
    with pytest.raises(ValueError, match="NUL|control character|lone surrogate|unicode"):
        schema.ParticipantProfile(postal_code="7080", max_commute_km=10, desired_titles=[value])
    with pytest.raises(ValueError):
        schema.ParticipantProfile(postal_code="7080", max_commute_km=10, desired_titles=["lager"], trusted_person=value)


def test_text_keeps_ordinary_unicode_and_line_breaks():
    p = schema.ParticipantProfile(
        postal_code="7080", max_commute_km=10, desired_titles=["Lærling – bygg 🙂"], trusted_person="Kari\nNordmann\t(søster)"
    )
    assert p.desired_titles == ["Lærling – bygg 🙂"]


def test_a_posted_profile_is_bounded(client, auth):
    ok = {"postal_code": "7080", "max_commute_km": 20, "desired_titles": ["butikkmedarbeider"]}
    cases = {
        "skills": {"skills": [f"skill {i}" for i in range(51)]},
        "desired_titles": {"desired_titles": ["lager"] * 21},
        "experience": {"experience": [{"styrk08": "5223", "years": 1}] * 31},
        "driving_licences": {"driving_licences": ["B"] * 31},
        "adaptation_needs": {"adaptation_needs": ["ERGONOMI"] * 31},
        "preferred_industries": {"preferred_industries": ["G"] * 31},
        "trusted_person": {"trusted_person": "x" * 201},
        "postal_code": {"postal_code": "7080a"},
        "desired_styrk08": {"desired_styrk08": ["52231"]},
    }
    for fld, change in cases.items():
        res = client.post("/v1/match", json={**ok, **change}, headers=auth("adviser"))
        assert res.status_code == 422, (fld, res.text)
        assert fld in res.json()["detail"][0]["loc"], res.text
    for title in ["x" * 201, "lager\u0000", "lager\ud800"]:
        body = json.dumps({**ok, "desired_titles": [title]})  # ASCII JSON: "\\u0000", "\\ud800"
        res = client.post("/v1/match", content=body.encode(), headers={**auth("adviser"), "content-type": "application/json"})
        assert res.status_code == 422, (title, res.text)
        assert res.json()["detail"][0]["loc"][:2] == ["body", "desired_titles"]


def test_the_limits_are_in_the_openapi_schema(client):
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    profile = spec["ParticipantProfile"]["properties"]
    assert profile["skills"]["maxItems"] == schema.MAX_SKILLS == 50
    assert profile["skills"]["items"]["maxLength"] == schema.MAX_TEXT == 200
    assert profile["desired_titles"]["maxItems"] == schema.MAX_TITLES == 20
    assert profile["experience"]["maxItems"] == schema.MAX_EXPERIENCE == 30
    assert profile["postal_code"]["pattern"] == r"^[0-9]{4}$"
    assert profile["desired_styrk08"]["items"]["pattern"] == r"^[0-9]{4}$"
    for name in ("driving_licences", "adaptation_needs", "preferred_industries"):
        assert profile[name]["maxItems"] and profile[name]["items"]["maxLength"]
    opening = schema.Opening.model_json_schema()["properties"]
    assert opening["opening_id"]["pattern"] == schema.ID_PATTERN
    assert opening["orgnr"]["pattern"] == r"^[0-9]{9}$"
    assert opening["required_skills"]["maxItems"] == opening["optional_skills"]["maxItems"] == 50
    assert schema.Participant.model_json_schema()["properties"]["participant_id"]["pattern"] == schema.ID_PATTERN


def test_semantic_checks_stay_behind_the_patterns():
    with pytest.raises(ValueError, match="check digit"):
        schema.Employer(orgnr="123456789", name="x", nace="47.111", nace_section="G", postal_code="7080", office_id="nav-heimdal")
    with pytest.raises(ValueError, match="unknown postal code"):
        schema.ParticipantProfile(postal_code="0000", max_commute_km=10, desired_titles=["lager"])


# ------------------------------------------------------------------------------ 4. CSV formula injection


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+47 999", "-2+3", "@SUM(A1)", "\tlager", "\rlager"])
def test_formula_cells_are_neutralised(cell):
    assert safe_cell(cell) == "'" + cell


def test_numbers_and_plain_text_are_left_alone():
    assert safe_cell(-3) == -3 and safe_cell(-2.5) == -2.5 and safe_cell("lager - natt") == "lager - natt"
    df = pd.DataFrame({"title": ["=1+1", "ok"], "n": [-1, 2], "x": [-1.5, 2.0], "f": ["-1.5", "2"]})
    out = safe_frame(df, numeric=("f",))
    assert out["title"].tolist() == ["'=1+1", "ok"] and out["n"].tolist() == [-1, 2]
    assert out["x"].tolist() == [-1.5, 2.0] and out["f"].tolist() == ["-1.5", "2"]


def test_titles_output_is_safe_to_open_in_a_spreadsheet(cli):
    res = cli("titles", "--top", "2", "-", stdin="=cmd|' /C calc'!A0\n@SUM(1)\n-lager\nlagermedarbeider\n")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["title"] for r in rows[::2]] == ["'=cmd|' /C calc'!A0", "'@SUM(1)", "'-lager", "lagermedarbeider"]
    assert all(r["code"].isdigit() and float(r["score"]) >= 0 for r in rows)


def test_generated_text_cells_are_neutralised_and_the_round_trip_holds(tmp_path, monkeypatch):
    """The generator writes through the same helper; a generated title starting with "-" comes
    out quoted, and the loader reads what it wrote (the fixtures round trip is test_generate's)."""
    import worldgen as generate

    written = {}
    real = generate._write

    def spy(df, path, model):
        if path.name == "openings.csv":
            df = df.copy()
            df.loc[df.index[0], "title"] = "-Lagermedarbeider"
        written[path.name] = real(df, path, model)
        return written[path.name]

    monkeypatch.setattr(generate, "_write", spy)
    generate.generate_world(tmp_path, n_participants=5, n_openings=10, outcomes=False)
    with (tmp_path / "openings.csv").open(newline="", encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))
    assert first["title"] == "'-Lagermedarbeider" and float(first["hours_per_week"]) > 0


# ------------------------------------------------------------------------------ 5. nothing stored lost


def test_a_rejected_file_changes_nothing_already_stored(cli, tmp_path):
    res = cli("load", str(FIXTURES))
    assert res.exit_code == 0, res.output
    before = _snapshot(cli.db)
    data = _data(tmp_path)
    _edit(data / "participants.csv", 2, max_commute_km="299")  # valid: would show if anything were written
    _edit(data / "openings.csv", 2, title="Ny tittel")  # likewise
    _edit(data / "outcomes.csv", 3000, occurred_at="2999-01-01T00:00")
    lines = (data / "employers.csv").read_bytes().split(b"\n")
    lines[20] = lines[20].replace(b",", b",\x00", 1)
    (data / "employers.csv").write_bytes(b"\n".join(lines))
    _rejected(cli("load", str(data)), "outcomes.csv:3000: occurred_at=", "employers.csv:21: ")
    assert _snapshot(cli.db) == before
    (data / "offices.csv").write_bytes(b"")
    _rejected(cli("load", str(data)), "offices.csv:1: (file)=")
    assert _snapshot(cli.db) == before
    with make_engine(f"sqlite:///{cli.db}").connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.participants)).scalar() == 180
