"""Occupation proximity: the code × code table and the reasons the occupation criterion gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.criteria import BY_NAME
from matching.engine import MatchEngine
from matching.explain import feature_rows
from matching.taxonomy import occupations
from matching.taxonomy import proximity as prox
from tests.synthetic import AS_OF, build_world

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def tab() -> prox.ProximityTable:
    return prox.table()


def test_truck_driver_and_warehouse_worker_are_near_because_swedish_data_says_they_substitute():
    for a, b in (("8344", "4321"), ("4321", "8344")):
        entry = prox.proximity(a, b)
        assert entry["level"] == prox.NEAR
        assert entry["substitute_pct"] == 25 and entry["shared_digits"] == 0


def test_known_far_and_close_pairs():
    for a, b in (("2223", "7212"), ("7212", "2223"), ("5223", "7212")):  # nurse, welder, shop assistant
        assert prox.proximity(a, b)["level"] == prox.FAR
    close = prox.proximity("2223", "5321")  # nurse → care worker: most of the core skills
    assert close["level"] == prox.CLOSE and close["shared_core"] >= close["n_core"] * prox.CLOSE_SHARE
    assert prox.proximity("8322", "8332")["level"] == prox.CLOSE  # car → lorry driver


def test_same_code_and_only_the_same_code_is_the_top_level(tab):
    n = len(tab.codes)
    assert n == 407
    level = tab.level[:n, :n]
    np.testing.assert_array_equal(np.diag(level), prox.SAME)
    assert (level[~np.eye(n, dtype=bool)] < prox.SAME).all()


def test_table_bounds_and_documented_asymmetry(tab):
    n = len(tab.codes)
    level, shared, subst = tab.level[:n, :n], tab.shared_core[:n, :n], tab.substitute_pct[:n, :n]
    assert level.min() >= prox.FAR and level.max() <= prox.SAME
    assert set(np.unique(subst)) <= {0, 25, 75}
    np.testing.assert_array_equal(subst, subst.T)  # substitution is taken symmetric
    assert (shared >= 0).all() and (shared <= tab.n_core[None, :n]).all() and tab.n_core.max() <= 12
    # The only asymmetry is directional skill sharing (the share of the *to* occupation's core
    # skills the from-occupation has).
    share = shared / np.maximum(tab.n_core[None, :n], 1)
    asym = level != level.T
    assert asym.any() and (share[asym] != share.T[asym]).all()
    # No kind of evidence can pull a pair below what the STYRK hierarchy alone gives it.
    hierarchy = np.select(
        [tab.shared_digits == 4, tab.shared_digits == 3, tab.shared_digits == 2, tab.shared_digits == 1], [4, 3, 2, 1], 0
    )[:n, :n]
    assert (level >= hierarchy).all()


def test_padding_and_unknown_codes_are_related_to_nothing(tab):
    best = prox.best_match(np.array([[-1, -1], [9999, -1], [5223, -1]]), np.array([5223, 5223, 9999]))
    np.testing.assert_array_equal(best["level"], [prox.FAR, prox.FAR, prox.FAR])


def test_best_desired_occupation_wins_and_is_quoted():
    best = prox.best_match(np.array([[7212, 8344, -1]]), np.array([4321]))
    assert best["level"][0] == prox.NEAR and best["desired_code"][0] == 8344


def _pair_world(desired: list[str], opening_code: str, title: str):
    from tests.test_skills import opening_record, participant_record  # one place for record shapes

    return build_world([participant_record("P-1", desired=desired)], [opening_record("O-1", opening_code, title)])


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_reasons_say_why_an_occupation_is_near(lang):
    from tests.test_skills import step_model

    model = step_model()
    world = _pair_world(["8344"], "4321", "Lagermedarbeider")
    rows = {r["feature"]: r for r in feature_rows(MatchEngine(world, model, AS_OF).explain_pair(0, 0)["explanation"], lang)}
    text = rows["occupation"]["text"]
    assert rows["occupation"]["level"] == prox.NEAR
    if lang == "en":
        assert "sometimes a substitute occupation (Swedish labour-market data)" in text
        assert occupations.name_en("8344").lower() in text
    else:
        assert "av og til et erstatningsyrke (svenske arbeidsmarkedsdata)" in text
        assert occupations.name("8344").lower() in text

    world = _pair_world(["2223"], "5321", "Helsefagarbeider")
    entry = prox.proximity("2223", "5321")
    text = BY_NAME["occupation"].text(
        prox.CLOSE, MatchEngine(world, model, AS_OF).explain_pair(0, 0)["explanation"].features["occupation"].values, lang
    )
    quoted = (
        f"shares {entry['shared_core']} of {entry['n_core']} core skills"
        if lang == "en"
        else f"deler {entry['shared_core']} av {entry['n_core']} kjerneferdigheter"
    )
    assert quoted in text


CODES = [int(c) for c in prox.table().codes]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(CODES), min_size=1, max_size=5), st.sampled_from(CODES), st.sampled_from(CODES))
def test_wanting_one_more_occupation_never_lowers_the_proximity_level(desired, extra, target):
    before = prox.best_match(np.array([desired + [-1]]), np.array([target]))["level"][0]
    after = prox.best_match(np.array([desired + [extra]]), np.array([target]))["level"][0]
    assert after >= before
    assert after == max(before, prox.best_match(np.array([[extra]]), np.array([target]))["level"][0])


@pytest.mark.skipif(not (SHARED / "jobtech_taxonomy_se").is_dir(), reason="needs ../shared/data to rebuild from")
def test_the_shipped_table_is_what_the_build_script_produces(tmp_path):
    out = tmp_path / "prox.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_occupation_proximity.py"), "--shared", str(SHARED), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == (ROOT / "matching" / "reference" / "occupation_proximity.csv").read_bytes()


def _experience_row(experience: list[tuple[str, float]], opening_code: str, lang: str = "en") -> dict:
    from tests.test_skills import _explain, opening_record, participant_record

    rows, _ = _explain([participant_record("P-1", experience=experience)], [opening_record("O-1", opening_code)], lang)
    return rows["experience"]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_experience_in_a_near_occupation_counts_half_and_the_reason_says_so(lang):
    name = occupations.name_en if lang == "en" else occupations.name
    # truck driver → warehouse worker is near (substitutable): 4 years count as 2.
    row = _experience_row([("8344", 4.0)], "4321", lang)
    assert row["level"] == 2 and row["values"]["years"] == pytest.approx(2.0)
    assert (
        f"4 years in a related occupation ({name('8344').lower()}), counted half"
        if lang == "en"
        else f"4 år i et beslektet yrke ({name('8344').lower()}), teller halvt"
    ) == row["text"]
    # the same unit group counts in full and is "the field"; the near one counts half
    row = _experience_row([("4321", 1.0), ("8344", 2.0)], "4321", lang)
    assert row["level"] == 2 and row["values"]["years"] == pytest.approx(2.0)
    assert (
        f"1 year of experience in the field ({name('4321').lower()})"
        if lang == "en"
        else f"1 års erfaring innen feltet ({name('4321').lower()})"
    ) in row["text"]
    assert ("2 years in a related occupation" if lang == "en" else "2 år i et beslektet yrke") in row["text"]
    # a close occupation (car → lorry driver) counts in full, but is named as what it was
    row = _experience_row([("8322", 3.0)], "8332", lang)
    assert row["level"] == 3
    assert (
        f"3 years in a closely related occupation ({name('8322').lower()})"
        if lang == "en"
        else f"3 år i et nært beslektet yrke ({name('8322').lower()})"
    ) == row["text"]
    assert name("8332").lower() not in row["text"]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_several_related_jobs_are_each_named_with_their_own_years(lang):
    # car (8322) and bus drivers (8331) → lorry driver (8332): both close
    assert prox.proximity("8331", "8332")["level"] == prox.CLOSE
    row = _experience_row([("8331", 2.0), ("8322", 3.0)], "8332", lang)
    name = occupations.name_en if lang == "en" else occupations.name
    car, bus = name("8322").lower(), name("8331").lower()
    assert row["text"] == (
        f'5 years in closely related occupations ("{car}": 3, "{bus}": 2)'
        if lang == "en"
        else f"5 år i nært beslektede yrker («{car}»: 3, «{bus}»: 2)"
    )


def test_a_few_days_of_experience_do_not_read_as_zero_years():
    row = _experience_row([("4321", 0.02)], "4321")
    assert row["level"] == 1 and "0 year" not in row["text"] and row["text"].startswith("Less than a month")
    row = _experience_row([("4321", 0.02), ("8344", 3.0)], "4321")
    assert row["text"] == f"3 years in a related occupation ({occupations.name_en('8344').lower()}), counted half"


def test_experience_in_a_far_occupation_counts_nothing():
    row = _experience_row([("2223", 10.0)], "7212")  # nurse → welder
    assert row["level"] == 0 and row["values"]["years"] == 0
    assert row["text"].startswith("No experience in this field")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from([0.5, 2.0, 6.0])), max_size=3),
    st.sampled_from(CODES),
    st.sampled_from([0.5, 2.0, 6.0]),
    st.sampled_from(CODES),
)
def test_more_experience_never_lowers_the_experience_level(experience, code, years, target):
    before = [(f"{c:04d}", y) for c, y in experience]
    after = before + [(f"{code:04d}", years)]
    assert _experience_row(after, f"{target:04d}")["level"] >= _experience_row(before, f"{target:04d}")["level"]
