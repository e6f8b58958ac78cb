"""The national generator (`matching generate --scope national`) and the bulk loader at size.

Small sizes only: speed is measured by the benchmarks, never here.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sqlalchemy import func, select
from typer.testing import CliRunner

from matching import schema
from matching.cli import app
from matching.store import tables as t
from matching.store.db import make_engine
from matching.store.load import LoadError, load_directory
from matching.taxonomy._files import reference_path
from matching.taxonomy.places import postal_table
from worldgen import generate_world
from worldgen.catalogue import OCCUPATIONS
from worldgen.national import jobseekers, national_demand, national_region, opening_weights

NAMES = list(schema.FILES)
N_PARTICIPANTS, N_OPENINGS = 3000, 1000


def _read(directory: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(directory / name, dtype=str, keep_default_na=False, encoding="utf-8") for name in NAMES}


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    result = CliRunner().invoke(
        app, ["generate", "--out", str(out), "--participants", str(N_PARTICIPANTS), "--openings", str(N_OPENINGS), "--seed", "11"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def world(national) -> dict[str, pd.DataFrame]:
    return _read(national)


def _county_share(postal: pd.Series, counties: set[str]) -> float:
    muni = postal.map(postal_table()["kommunenummer_2025"])
    return float(muni.str[:2].isin(counties).mean())


# ------------------------------------------------------------------------------ reproducibility


def test_same_seed_same_bytes_other_seed_other_world(tmp_path, national):
    args = {"n_participants": N_PARTICIPANTS, "n_openings": N_OPENINGS, "scope": "national"}
    generate_world(tmp_path / "a", seed=11, **args)
    for name in NAMES:
        assert (tmp_path / "a" / name).read_bytes() == (national / name).read_bytes(), name
    generate_world(tmp_path / "b", seed=12, **args)
    for name in ("employers.csv", "openings.csv", "participants.csv", "outcomes.csv"):
        assert (tmp_path / "b" / name).read_bytes() != (national / name).read_bytes(), name


def test_positional_out_dir_still_works_and_the_trondheim_scope_is_the_fixtures_world(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["generate", str(tmp_path / "trd"), "--scope", "trondheim"])
    assert result.exit_code == 0, result.output
    fixtures = Path(__file__).resolve().parent.parent / "data" / "fixtures"
    for name in NAMES:
        assert (tmp_path / "trd" / name).read_bytes() == (fixtures / name).read_bytes(), name


def test_cli_rejects_two_or_no_output_directories_and_unknown_scopes(tmp_path):
    runner = CliRunner()
    for args in (
        ["generate"],
        ["generate", str(tmp_path / "a"), "--out", str(tmp_path / "b")],
        ["generate", "--out", str(tmp_path / "c"), "--scope", "europe"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "--out" in result.output or "--scope" in result.output or "OUT_DIR" in result.output
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValueError, match="scope"):
        generate_world(tmp_path / "d", scope="europe")


# ------------------------------------------------------------------------------ format and offices


def test_the_loader_accepts_the_national_data(national, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    counts = load_directory(engine, national)
    data = _read(national)
    assert counts == {name.removesuffix(".csv"): len(data[name]) for name in NAMES}
    assert counts["outcomes"] > 0


def test_offices_are_nav_units_covering_every_municipality_once(world):
    offices = world["offices.csv"]
    region = national_region()
    munis = pd.read_csv(reference_path("municipalities.csv"), dtype={"kommunenummer": str})
    served = region.postcodes.groupby("kommunenummer_2025")["office_id"].nunique()
    # every municipality with postal codes is served, by one office unless a city is split into districts
    assert set(served.index) == set(munis.loc[munis["n_postcodes_used"] > 0, "kommunenummer"])
    split = set(served[served > 1].index)
    assert split == {"0301", "4601", "5001"}
    assert offices["office_id"].is_unique and len(offices) == len(region.offices)
    assert 250 <= len(offices) <= 330  # NAV has roughly 250 local offices
    assert (offices["office_id"].str.startswith("nav-")).all() and (offices["name"].str.startswith("NAV ")).all()
    oslo = offices[offices["municipality_code"] == "0301"]
    assert len(oslo) == 15 and "NAV Grünerløkka" in set(oslo["name"])
    assert {"nav-bergen-fana", "nav-heimdal", "nav-stavanger", "nav-tromso", "nav-alta"} <= set(offices["office_id"])
    # small municipalities share a neighbour's office, named after all of them
    assert offices["name"].str.contains(" og ").sum() >= 20
    for name in ("employers.csv", "openings.csv", "participants.csv"):
        assert set(world[name]["office_id"]) <= set(offices["office_id"]), name
    # a participant belongs to the office that serves their postal code
    office_of = region.postcodes.set_index("postnummer")["office_id"]
    parts = world["participants.csv"]
    assert (parts["postal_code"].map(office_of) == parts["office_id"]).all()


# ------------------------------------------------------------------------------ distributions


def test_people_and_openings_follow_population(world):
    munis = pd.read_csv(reference_path("municipalities.csv"), dtype={"kommunenummer": str})
    pop = munis.groupby(munis["kommunenummer"].str[:2])["population"].sum()
    share = pop / pop.sum()
    oslo_viken = {"03", "31", "32", "33"}
    expected_ov, expected_finnmark = share[list(oslo_viken)].sum(), share["56"]
    parts = world["participants.csv"]
    got_ov, got_fm = _county_share(parts["postal_code"], oslo_viken), _county_share(parts["postal_code"], {"56"})
    assert abs(got_ov - expected_ov) < 0.04, (got_ov, expected_ov)
    assert abs(got_fm - expected_finnmark) < 0.01, (got_fm, expected_finnmark)
    assert got_ov / max(got_fm, 1e-9) > 10
    # workplaces too: many more openings around the big cities than in Finnmark
    emps = world["employers.csv"].set_index("orgnr")
    opens = world["openings.csv"]
    where = opens["postal_code"].where(opens["postal_code"] != "", opens["orgnr"].map(emps["postal_code"]))
    assert _county_share(where, oslo_viken) > 0.25 and _county_share(where, {"56"}) < 0.04
    cities = {"0301", "4601", "5001", "1103"}
    muni = parts["postal_code"].map(postal_table()["kommunenummer_2025"])
    assert 0.2 < muni.isin(cities).mean() < 0.4  # the four big cities hold about 30 % of Norway


def test_occupation_mix_follows_nav_figures(world):
    codes = [o.code for o in OCCUPATIONS]
    parts = world["participants.csv"]
    first = parts.loc[parts["desired_styrk08"] != "", "desired_styrk08"].str.split("|").str[0]
    counts = first.value_counts().reindex(codes, fill_value=0)
    seekers = np.array([jobseekers().get(c, 0) for c in codes])
    rho_p, _ = spearmanr(counts.to_numpy(), seekers)
    assert rho_p > 0.8, rho_p
    opens = world["openings.csv"]
    given = opens.loc[opens["styrk08"] != "", "styrk08"].value_counts().reindex(codes, fill_value=0).to_numpy()
    rho_o, _ = spearmanr(given, opening_weights())
    assert rho_o > 0.8, rho_o
    # the demand survey pulls openings towards shortage occupations: nurses are common among
    # openings but rare among job seekers
    demand = np.array([national_demand().get(c, 0.0) for c in codes])
    assert spearmanr(given / given.sum() - counts.to_numpy() / counts.sum(), demand)[0] > 0.3
    nurse = codes.index("2223")
    assert given[nurse] / given.sum() > 3 * counts.iloc[nurse] / counts.sum()


def test_the_same_variety_of_needs_hours_licences_languages_and_goals(world):
    parts, opens = world["participants.csv"], world["openings.csv"]
    needs = parts["adaptation_needs"].str.split("|").explode()
    assert needs[needs != ""].nunique() >= 14 and 0.5 < (parts["adaptation_needs"] != "").mean() < 0.8
    assert set(parts["goal"]) == {"job", "trial", "either"}
    assert set(parts["norwegian_level"]) >= {"none", "A2", "B1", "B2", "C1", "native"}
    lic = parts["driving_licences"].str.split("|").explode()
    assert {"B", "C", "CE", "D"} <= set(lic) and (parts["driving_licences"] == "").mean() > 0.2
    assert parts["max_hours_per_week"].nunique() >= 4 and (parts["wants_part_time"] == "true").mean() > 0.15
    assert set(opens["kind"]) == {"job", "trial"} and opens["hours_per_week"].nunique() >= 5
    assert set(opens["status"]) == {"open", "filled", "closed"}
    assert (opens["styrk08"] == "").mean() > 0.2  # free-text titles for the normaliser
    assert opens["required_licences"].str.contains("CE").any()
    assert set(world["outcomes.csv"]["event"]) == {e.value for e in schema.Event}


def test_employers_scale_with_openings_and_outcomes_can_be_left_out(tmp_path):
    counts = generate_world(tmp_path, scope="national", n_participants=300, n_openings=1120, outcomes=False)
    assert counts["employers"] == 200 and counts["outcomes"] == 0
    with (tmp_path / "outcomes.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(schema.Outcome.model_fields)
    assert "open" in set(_read(tmp_path)["openings.csv"]["status"])


def test_the_national_history_is_bounded(tmp_path):
    small = generate_world(tmp_path / "s", scope="national", n_participants=500, n_openings=200, seed=3)
    large = generate_world(tmp_path / "l", scope="national", n_participants=20_000, n_openings=200, seed=3)
    # 40 × the people, but the history is that of at most HISTORY_PARTICIPANTS people
    assert large["outcomes"] < 20 * small["outcomes"]


# ------------------------------------------------------------------------------ bulk load


def _snapshot(engine) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {
            tbl.name: conn.execute(select(func.count()).select_from(tbl)).scalar()
            for tbl in (t.offices, t.employers, t.openings, t.participants, t.outcomes)
        }
        counts["rows"] = repr(conn.execute(select(t.participants).order_by(t.participants.c.participant_id)).all())
    return counts


def test_a_bad_row_in_a_late_chunk_rejects_everything_and_writes_nothing(national, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(national, data)
    engine = make_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    lines = (data / "participants.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    head = lines[0].rstrip("\n").split(",")
    bad = 2500  # past the first chunks of 1,000 rows, which are already upserted when it is read
    row = next(csv.DictReader([lines[0], lines[bad - 1]], fieldnames=None))
    row["max_commute_km"] = "far"
    with (data / "participants.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(lines[: bad - 1])
        w = csv.DictWriter(fh, fieldnames=head, lineterminator="\n")
        w.writerow(row)
        fh.writelines(lines[bad:])
    with pytest.raises(LoadError) as info:
        load_directory(engine, data, chunk_rows=1000)
    errors = [(e.file, e.line, e.field, e.value) for e in info.value.errors]
    assert errors[0] == ("participants.csv", bad, "max_commute_km", "far")
    # and the outcomes of the rejected participant are listed as dangling references
    assert {(f, fld, v) for f, _, fld, v in errors[1:]} == {("outcomes.csv", "participant_id", row["participant_id"])}
    assert "participants.csv:2500: max_commute_km='far'" in str(info.value)
    assert _snapshot(engine)["participants"] == 0 and _snapshot(engine)["offices"] == 0


@pytest.fixture(scope="module")
def small(national, tmp_path_factory) -> tuple[Path, object]:
    """The first 300 participants of the national world with everything else, loaded once."""
    small = tmp_path_factory.mktemp("small")
    for name in NAMES:
        lines = (national / name).read_text(encoding="utf-8").splitlines(keepends=True)
        keep = lines[:301] if name == "participants.csv" else lines
        if name == "outcomes.csv":
            ids = set(pd.read_csv(small / "participants.csv", dtype=str)["participant_id"])
            keep = lines[:1] + [ln for ln in lines[1:] if ln.split(",")[1] in ids]
        (small / name).write_text("".join(keep), encoding="utf-8")
    one = make_engine(f"sqlite:///{small / 'one.db'}")
    load_directory(one, small)
    return small, one


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(min_value=50, max_value=2000))
def test_chunk_size_does_not_change_what_is_stored_and_reloading_changes_nothing(small, tmp_path_factory, chunk):
    small, one = small
    other = make_engine(f"sqlite:///{tmp_path_factory.mktemp('other') / 'other.db'}")
    load_directory(other, small, chunk_rows=chunk)
    load_directory(other, small, chunk_rows=chunk)
    assert _snapshot(one) == _snapshot(other)
    with one.connect() as a, other.connect() as b:
        for table in (t.employers, t.openings, t.outcomes):
            order = list(table.primary_key.columns)
            assert a.execute(select(table).order_by(*order)).all() == b.execute(select(table).order_by(*order)).all()


def _set(path: Path, line: int, **changes) -> None:
    """Change fields of the row on a file line (header = line 1)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[line - 2].update(changes)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_a_rejected_chunked_import_leaves_stored_rows_as_they_were(small, tmp_path):
    source, _ = small
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.db*"))
    engine = make_engine(f"sqlite:///{tmp_path / 'stored.db'}")
    load_directory(engine, data)
    before = _snapshot(engine)
    _set(data / "participants.csv", 2, max_commute_km="299")  # an update in the first chunk …
    _set(data / "participants.csv", 250, postal_code="0000")  # … and a bad row in the third
    with pytest.raises(LoadError) as info:
        load_directory(engine, data, chunk_rows=100)
    assert [(e.file, e.line, e.field) for e in info.value.errors if e.file == "participants.csv"] == [
        ("participants.csv", 250, "postal_code")
    ]
    assert _snapshot(engine) == before
    _set(data / "participants.csv", 250, postal_code="0150")
    load_directory(engine, data, chunk_rows=100)
    after = _snapshot(engine)
    assert after["rows"] != before["rows"] and after["participants"] == before["participants"]
