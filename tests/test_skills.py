"""Skills: free text → ESCO ids (English, bokmål, typos), fuzzy fallback, inferred skills."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.criteria import ALL
from matching.engine import MatchEngine
from matching.explain import feature_rows, reasons
from matching.scoring import ScoringModel
from matching.taxonomy import occupations, places
from matching.taxonomy import skills as sk
from tests.synthetic import AS_OF, build_world, monotone_models

FORKLIFT = sk.canonical_skill("operate forklift")


def step_model() -> ScoringModel:
    """Every better level adds 1: a plain monotone model for reading reasons."""
    return ScoringModel("t", tuple(c.name for c in ALL), [np.arange(c.n_levels, dtype=float) - 1 for c in ALL], 0.0)


def participant_record(pid: str, desired=("4321",), skills=(), experience=()) -> dict:
    place = places.lookup("7030")
    return {
        "participant_id": pid,
        "office_id": "nav-heimdal",
        "registered_at": dt.date(2025, 1, 1),
        "postal_code": "7030",
        "lat": place.lat,
        "lon": place.lon,
        "max_commute_km": 30.0,
        "desired_titles": ["x"],
        "desired_styrk08": list(desired),
        "skills": list(skills),
        "experience": [{"styrk08": c, "years": y} for c, y in experience],
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


def opening_record(oid: str, code: str = "4321", title: str = "Lagermedarbeider", required=(), optional=()) -> dict:
    place = places.lookup("7030")
    return {
        "opening_id": oid,
        "orgnr": "974760673",
        "kind": "job",
        "title": title,
        "styrk08": code,
        "styrk08_source": "given",
        "required_skills": list(required),
        "optional_skills": list(optional),
        "required_licences": [],
        "min_norwegian": "none",
        "min_education": "none",
        "hours_per_week": 37.5,
        "positions": 1,
        "postal_code": "7030",
        "lat": place.lat,
        "lon": place.lon,
        "start_date": None,
        "deadline": None,
        "status": "open",
        "adaptations_offered": [],
        "office_id": "nav-heimdal",
        "published_at": dt.date(2026, 10, 1),
        "employer_name": "Test AS",
        "nace_section": "H",
        "employer_adaptations": [],
        "inclusive_workplace_agreement": False,
        "past_trial_placements": 0,
        "past_hires_after_trial": 0,
    }


# ------------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    "text, label",
    [
        ("operate forklift", "operate forklift"),  # English preferred label
        ("  Operate   FORKLIFT ", "operate forklift"),  # case and spacing
        ("kjøre truck", "operate forklift"),  # bokmål alias
        ("Kundeservice", "customer service"),
        ("lagerstyring", "manage inventory"),
        ("lagerstyrng", "manage inventory"),  # typo in a bokmål alias
        ("stock shelfs", "stock shelves"),  # typo in an English label
        ("products sell", "sell products"),  # word order
        ("norsk", "Norwegian"),
    ],
)
def test_free_text_skills_find_their_esco_id(text, label):
    found = sk.canonical_skill(text)
    assert found is not None and sk.label(found) == label


@pytest.mark.parametrize("text", ["", "   ", "a", "qwxzv plorkt", "cleaning"])
def test_gibberish_and_fragments_find_nothing(text):
    assert sk.canonical_skill(text) is None


def test_esco_alternative_labels_count_unless_two_skills_share_them():
    ids, keys, exact = sk._labels()
    alt = sk._read("skill_alt_labels_en.csv")
    keyed = alt.assign(key=alt["label_en"].map(sk._key))
    shared = keyed[keyed["key"].duplicated(keep=False) & ~keyed["key"].isin({sk._key(v) for v in sk.skills().values()})]
    assert len(shared) and not shared["key"].isin(exact).any()
    unique = keyed[~keyed["key"].duplicated(keep=False)].iloc[0]
    assert sk.canonical_skill(unique["label_en"]) in (unique["skill_id"], exact.get(unique["key"]))


def test_bokmal_aliases_are_documented_and_point_at_real_skills():
    df = sk._read("skill_aliases_nb.csv")
    assert set(df["basis"]) <= {"translation", "term", "certificate"}
    assert all(sk.is_known(i) for i in df["skill_id"])
    assert (df["label_en"] == df["skill_id"].map(sk.skills())).all()  # the review column is current
    assert sk.label(FORKLIFT, "nb") == "kjøre truck" and sk.label(FORKLIFT, "en") == "operate forklift"


def test_normalise_skill_list_keeps_unknown_text_and_drops_duplicates():
    out = sk.normalise_skill_list(["kjøre truck", "Operate forklift", "  MIG-sveising  av rør ", "", FORKLIFT])
    assert out == [FORKLIFT, "MIG-sveising av rør"]


# ------------------------------------------------------------------------------ comparison


def _explain(p_records, o_records, lang="en", p=0, o=0):
    engine = MatchEngine(build_world(p_records, o_records), step_model(), AS_OF)
    expl = engine.explain_pair(p, o)["explanation"]
    return {r["feature"]: r for r in feature_rows(expl, lang)}, expl


def test_free_text_without_an_id_meets_the_same_words_in_an_opening():
    rows, _ = _explain(
        [participant_record("P-1", skills=["sveise MIG av rør"])], [opening_record("O-1", required=["MIG sveise av rør", FORKLIFT])]
    )
    assert rows["skills"]["values"]["covered"] == 1 and rows["skills"]["values"]["required"] == 2


def test_stored_profiles_and_openings_are_normalised_on_load(tmp_path):
    import csv

    from matching.store.db import make_engine
    from matching.store.load import load_directory
    from matching.store.snapshot import load_world
    from tests.conftest import DATA

    data = tmp_path / "data"
    data.mkdir()
    for name in ("offices.csv", "employers.csv", "openings.csv", "participants.csv"):
        rows = list(csv.DictReader((DATA / name).open(encoding="utf-8")))
        if name == "participants.csv":
            rows[0]["skills"] = "Kjøre truck|operate forklift|lagerstyrng|qwxzv plorkt"
        if name == "openings.csv":
            rows[0]["required_skills"] = "Kundeservice|stock shelfs"
        with (data / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    load_directory(engine, data)
    with engine.connect() as conn:
        world = load_world(conn)
    p = world.participants.frame.iloc[0]
    assert list(p["skills"]) == [FORKLIFT, sk.canonical_skill("manage inventory"), "qwxzv plorkt"]
    o = world.openings.frame.iloc[0]
    assert list(o["required_skills"]) == [sk.canonical_skill("customer service"), sk.canonical_skill("stock shelves")]


# ------------------------------------------------------------------------------ inferred skills


def _typical_opening(code: str, n: int = 4) -> dict:
    return opening_record("O-1", code, "Lagermedarbeider", required=sk.inferred_skills(code)[:n])


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_profile_listing_no_skills_gets_its_occupations_typical_skills_marked_inferred(lang):
    rows, expl = _explain([participant_record("P-1", desired=["4321"], experience=[("4321", 3.0)])], [_typical_opening("4321")], lang)
    likely = rows["likely_skills"]
    assert likely["level"] == 4 and rows["skills"]["level"] == 0
    first = sk.label(sk.inferred_skills("4321")[0], lang)
    if lang == "en":
        assert likely["text"].startswith(f"Likely has: {first}")
        assert f"typical for {occupations.name_en('4321').lower()}" in likely["text"] and "inferred" in likely["text"]
        assert rows["skills"]["text"].startswith("No skills listed in the profile")
    else:
        assert likely["text"].startswith(f"Har trolig: {first}")
        assert f"typisk for {occupations.name('4321').lower()}" in likely["text"] and "utledet" in likely["text"]
        assert rows["skills"]["text"].startswith("Ingen ferdigheter oppgitt")
    assert "likely_skills" in {r["feature"] for r in reasons(expl, lang, max_positive=20)}


def test_experience_outranks_a_desired_occupation_as_the_source_of_inferred_skills():
    rows, _ = _explain([participant_record("P-1", desired=["5223"], experience=[("9112", 1.0), ("4321", 4.0)])], [_typical_opening("4321")])
    assert rows["likely_skills"]["values"]["inferred_from"] == "4321"  # a STYRK-08 code, as a string
    world = build_world([participant_record("P-1", desired=["5223", "4321"])], [_typical_opening("4321")])
    assert world.participants.inferred_from.tolist() == [5223]


def test_a_longer_job_elsewhere_never_takes_inferred_skills_away():
    """Review finding: the skills were inferred from the longest job only, so adding a longer
    job in another occupation swapped them and could lower the score."""
    opening = opening_record(
        "O-1", "4321", "Lagermedarbeider", required=list(sk.inferred_skills("4321")[:2]) + list(sk.inferred_skills("8344")[:2])
    )
    before = participant_record("P-1", experience=[("4321", 2.0)])
    after = participant_record("P-2", experience=[("4321", 2.0), ("9112", 8.0)])
    both = participant_record("P-3", experience=[("4321", 2.0), ("8344", 8.0)])
    world = build_world([before, after, both], [opening])
    engine = MatchEngine(world, step_model(), AS_OF)
    level = [engine.explain_pair(p, 0)["explanation"].features["likely_skills"].level for p in range(3)]
    assert level[1] == level[0] == 2 and level[2] == 4
    assert world.participants.inferred_from.tolist() == [4321, 9112, 8344]  # most years first


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_inferred_skills_name_every_occupation_they_are_typical_for(lang):
    opening = opening_record(
        "O-1", "4321", "Lagermedarbeider", required=list(sk.inferred_skills("4321")[:2]) + list(sk.inferred_skills("8344")[:2])
    )
    rows, _ = _explain([participant_record("P-1", experience=[("4321", 2.0), ("8344", 8.0), ("9112", 1.0)])], [opening], lang)
    text = rows["likely_skills"]["text"]
    name = occupations.name_en if lang == "en" else occupations.name
    a, b = name("8344").lower(), name("4321").lower()
    assert (f'"{a}" and "{b}"' if lang == "en" else f"«{a}» og «{b}»") in text  # longest first, quoted
    assert name("9112").lower() not in text  # its skills are not among the quoted ones


def test_a_job_listed_twice_is_one_occupation_with_the_years_summed():
    opening = opening_record("O-1", "4321", "Lagermedarbeider", required=list(sk.inferred_skills("4321")[:2]))
    world = build_world([participant_record("P-1", experience=[("4321", 2.0), ("9112", 1.0), ("4321", 3.0)])], [opening])
    codes, years = world.participants.experience
    assert codes[0, :2].tolist() == [4321, 9112] and years[0, :2].tolist() == [5.0, 1.0] and (codes[0, 2:] == -1).all()
    rows, _ = _explain([participant_record("P-1", experience=[("4321", 2.0), ("4321", 3.0)])], [opening])
    assert rows["experience"]["text"].startswith("5 years of experience in the field")
    assert rows["experience"]["text"].count(occupations.name_en("4321").lower()) == 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["4321", "8344", "9112", "5223", "7212"]), st.sampled_from([0.5, 3.0, 9.0])), min_size=1, max_size=3
    ),
    st.sampled_from(["4321", "8344", "9112", "5223", "7212"]),
    st.sampled_from([0.5, 3.0, 9.0]),
)
def test_adding_experience_never_lowers_likely_skills(experience, code, years):
    required = [s for c in ("4321", "8344", "5223") for s in sk.inferred_skills(c)[:2]]
    world = build_world(
        [participant_record("P-1", experience=experience), participant_record("P-2", experience=experience + [(code, years)])],
        [opening_record("O-1", "4321", "x", required=required)],
    )
    engine = MatchEngine(world, step_model(), AS_OF)
    level = [engine.explain_pair(p, 0)["explanation"].features["likely_skills"].level for p in range(2)]
    assert level[1] >= level[0]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_nothing_is_quoted_as_inferred_when_listed_skills_cover_the_requirements(lang):
    required = list(sk.inferred_skills("4321")[:4])
    rows, expl = _explain(
        [participant_record("P-1", skills=required + [FORKLIFT], experience=[("4321", 3.0)])], [_typical_opening("4321")], lang
    )
    likely = rows["likely_skills"]
    assert likely["values"]["inferred_from"] is None  # nothing inferred counts
    assert likely["level"] == rows["skills"]["level"] == 4
    assert "Likely" not in likely["text"] and "trolig" not in likely["text"]
    assert "likely_skills" not in {r["feature"] for r in reasons(expl, lang, max_positive=20, max_negative=20)}


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_typical_skills_fill_the_gaps_of_a_profile_that_lists_some(lang):
    """Listing an unrelated skill must not throw away what the occupation says (review finding:
    a first listed skill used to replace the inferred ones and lower the score)."""
    rows, _ = _explain([participant_record("P-1", skills=[FORKLIFT], experience=[("4321", 3.0)])], [_typical_opening("4321")], lang)
    likely = rows["likely_skills"]
    assert likely["level"] == 4 and likely["values"]["inferred_from"] == "4321"
    assert ("Likely has:" if lang == "en" else "Har trolig:") in likely["text"]


@settings(max_examples=40, deadline=None)
@given(st.data(), monotone_models())
def test_stated_skills_never_count_less_than_inferred_ones_and_adding_one_never_lowers_a_score(data, model):
    code = data.draw(st.sampled_from(["4321", "5223", "8344", "5321", "9112"]))
    typical = list(sk.inferred_skills(code))
    required = data.draw(st.lists(st.sampled_from(typical + [FORKLIFT]), min_size=0, max_size=5, unique=True))
    inferred = participant_record("P-1", desired=[code], experience=[(code, 2.0)])
    stated = copy.deepcopy(inferred) | {"participant_id": "P-2", "skills": typical}
    partial = data.draw(st.lists(st.sampled_from(typical + [FORKLIFT]), min_size=0, max_size=6, unique=True))
    before = copy.deepcopy(inferred) | {"participant_id": "P-3", "skills": partial}
    extra = data.draw(st.sampled_from(typical + [FORKLIFT]))
    after = copy.deepcopy(inferred) | {"participant_id": "P-4", "skills": list(dict.fromkeys(partial + [extra]))}
    world = build_world([inferred, stated, before, after], [opening_record("O-1", code, "x", required=required)])
    engine = MatchEngine(world, model, AS_OF)
    score = [engine.explain_pair(i, 0)["score"] for i in range(4)]
    assert score[1] >= score[0]  # the same skills, stated rather than inferred
    assert score[3] >= score[2]  # one more listed skill (the first one included)


# ------------------------------------------------------------------------------ over HTTP


def test_a_posted_profile_may_name_its_skills_in_english_or_bokmal(client, auth, world):
    """The same skills written as ESCO ids, as labels/aliases, or with a typo rank alike."""
    from tests.conftest import participant_rows

    def body_of(p: dict) -> dict:
        return {
            k: (v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in p.items()
            if k not in ("participant_id", "office_id", "registered_at", "lat", "lon")
        }

    def matches(p: dict, skills: list[str]) -> list[tuple[str, float]]:
        res = client.post("/v1/match", params={"limit": 20}, json=body_of(p) | {"skills": skills}, headers=auth("adviser"))
        assert res.status_code == 200, res.text
        return [(m["opening_id"], m["score"]) for m in res.json()["matches"]]

    # A profile whose listed skills move its ranking (typical skills of its occupation count
    # anyway), so the comparisons below can fail.
    candidates = [p for p in participant_rows(world) if any(s in sk.aliases_nb() for s in p["skills"])]
    p, by_id = next(((p, ids) for p in candidates[:25] if (ids := matches(p, p["skills"])) != matches(p, [])), (None, None))
    assert p is not None, "no fixture profile whose listed skills move its ranking"
    written = [sk.label(s, "nb") if s in sk.aliases_nb() else sk.label(s, "en").upper() for s in p["skills"]]
    typo = [w[:-1] + w[-1] * 2 if len(w) > 12 else w for w in written]  # one doubled letter at the end
    assert by_id and matches(p, written) == by_id and matches(p, typo) == by_id


def test_the_quoted_typical_skills_are_the_sparse_products_nonzero_entries(world):
    """`skills.typical_not_listed` (numpy, every pair at once: the quoted values, live and batch) gives the
    columns of scipy's ``likely[p] ∘ required[o] − likely[p] ∘ required[o] ∘ listed[p]``,
    ascending, for every pair of the fixture world that has any."""
    from matching.criteria.skills import typical_not_listed
    from matching.store.snapshot import load_world
    from tests.conftest import db_engine

    with db_engine(world).connect() as conn:
        world = load_world(conn)
    rng = np.random.default_rng(7)
    n_p, n_o = len(world.participants), len(world.openings)
    p, o = rng.integers(0, n_p, 3000), rng.integers(0, n_o, 3000)
    both = world.likely_skills[p].multiply(world.required_skills[o]).tocsr()
    sub = (both - both.multiply(world.participant_skills[p])).tocsr()
    sub.eliminate_zeros()
    sub.sort_indices()
    expected = [sub.indices[a:b].tolist() for a, b in zip(sub.indptr[:-1], sub.indptr[1:])]
    got = [c.tolist() for c in typical_not_listed(world, p, o)]
    assert got == expected
    assert sum(map(bool, expected)) > 50  # the fixtures have such pairs: the check is not vacuous
