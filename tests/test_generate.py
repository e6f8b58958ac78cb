"""The world generator and the committed fixtures it produced; the skills reference."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matching import schema
from matching.taxonomy import adaptations, skills
from matching.taxonomy.places import haversine_km, postal_table
from worldgen import REFERENCE_DATE, generate_world
from worldgen.catalogue import INDUSTRIES, OCCUPATIONS, PUBLIC_EMPLOYERS, nace_sections

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "fixtures"
NAMES = list(schema.FILES)
POSITIVE = {"interview", "trial_started", "hired"}
#: Allowed next event after each event in one participant–opening chain.
NEXT = {
    "suggested": {"contacted", "declined_by_participant", "declined_by_employer"},
    "contacted": {"interview", "trial_started", "declined_by_participant", "declined_by_employer"},
    "interview": {"hired", "declined_by_participant", "declined_by_employer"},
    "trial_started": {"hired", "declined_by_participant", "declined_by_employer"},
    "hired": set(),
    "declined_by_participant": set(),
    "declined_by_employer": set(),
}


def _read(directory: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(directory / name, dtype=str, keep_default_na=False, encoding="utf-8") for name in NAMES}


def _split(value: str) -> list[str]:
    return [x for x in value.split("|") if x]


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return _read(FIXTURES)


@pytest.fixture(scope="module")
def pairs(world) -> pd.DataFrame:
    """One row per suggested pair with its chain and a few observable features."""
    ev, parts, opens, emps = (world[n] for n in ("outcomes.csv", "participants.csv", "openings.csv", "employers.csv"))
    ev = ev.assign(t=pd.to_datetime(ev["occurred_at"]))
    chains = ev.sort_values("t", kind="stable").groupby(["participant_id", "opening_id"])["event"].agg(list)
    df = chains.rename("chain").reset_index()
    df["y"] = df["chain"].map(lambda c: bool(POSITIVE & set(c)))
    p = parts.set_index("participant_id").loc[df["participant_id"]]
    o = opens.set_index("opening_id").loc[df["opening_id"]]
    e = emps.set_index("orgnr").loc[o["orgnr"]]
    pt = postal_table()
    o_postal = np.where(o["postal_code"] != "", o["postal_code"], e["postal_code"])
    df["km"] = haversine_km(
        pt.loc[p["postal_code"], "lat"], pt.loc[p["postal_code"], "lon"], pt.loc[o_postal, "lat"], pt.loc[o_postal, "lon"]
    )
    df["licence"] = p["driving_licences"].str.contains("B").to_numpy()
    offered = [set(_split(a)) | set(_split(b)) for a, b in zip(o["adaptations_offered"], e["adaptations_offered"])]
    needs = [set(_split(x)) for x in p["adaptation_needs"]]
    df["coverage"] = [len(n & f) / len(n) if n else 1.0 for n, f in zip(needs, offered)]
    rank = {lv: i for i, lv in enumerate(schema.NORWEGIAN_LEVELS)}
    df["norwegian_gap"] = np.maximum(o["min_norwegian"].map(rank).to_numpy() - p["norwegian_level"].map(rank).to_numpy(), 0)
    df["registered_at"] = p["registered_at"].to_numpy()
    df["published_at"] = o["published_at"].to_numpy()
    return df


# ------------------------------------------------------------------------------ reproducibility


def test_defaults_rebuild_the_committed_fixtures_byte_for_byte(tmp_path):
    counts = generate_world(tmp_path / "a")
    generate_world(tmp_path / "b")
    for name in NAMES:
        assert (tmp_path / "a" / name).read_bytes() == (FIXTURES / name).read_bytes(), name
        assert (tmp_path / "b" / name).read_bytes() == (FIXTURES / name).read_bytes(), name
    assert counts == {name.removesuffix(".csv"): len(_read(FIXTURES)[name]) for name in NAMES}


def test_another_seed_gives_another_world(tmp_path):
    generate_world(tmp_path, seed=7)
    for name in ("employers.csv", "openings.csv", "participants.csv", "outcomes.csv"):
        assert (tmp_path / name).read_bytes() != (FIXTURES / name).read_bytes(), name


# ------------------------------------------------------------------------------ the contract


def test_every_fixture_row_validates_and_columns_follow_the_contract():
    for name, model in schema.FILES.items():
        with (FIXTURES / name).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == list(model.model_fields), name
            errors = []
            for line, row in enumerate(reader, start=2):
                try:
                    model.model_validate(row)
                except ValueError as exc:
                    errors.append(f"{name}:{line}: {exc}")
        assert not errors, "\n".join(errors[:5])


def test_references_resolve(world):
    offices = set(world["offices.csv"]["office_id"])
    emps, opens, parts, ev = (world[n] for n in ("employers.csv", "openings.csv", "participants.csv", "outcomes.csv"))
    assert emps["orgnr"].is_unique and opens["opening_id"].is_unique and parts["participant_id"].is_unique
    assert set(emps["office_id"]) <= offices and set(opens["office_id"]) <= offices and set(parts["office_id"]) <= offices
    assert set(opens["orgnr"]) <= set(emps["orgnr"])
    assert set(ev["participant_id"]) <= set(parts["participant_id"])
    assert set(ev["opening_id"]) <= set(opens["opening_id"])
    # an opening belongs to its employer's office
    office_of = emps.set_index("orgnr")["office_id"]
    assert (opens["orgnr"].map(office_of) == opens["office_id"]).all()


def test_employers_are_plausible(world):
    emps = world["employers.csv"]
    assert all(schema.orgnr_is_valid(o) for o in emps["orgnr"])
    sections = nace_sections()
    assert (emps["nace"].map(sections) == emps["nace_section"]).all()
    assert emps["name"].is_unique
    assert {p.orgnr for p in PUBLIC_EMPLOYERS[: len(emps) // 10]} <= set(emps["orgnr"])
    assert emps["nace_section"].nunique() >= 8
    offers = emps["adaptations_offered"].map(lambda s: len(_split(s)))
    assert (offers == 0).any() and (offers >= 4).any()
    ia = emps["inclusive_workplace_agreement"] == "true"
    assert offers[ia].mean() > offers[~ia].mean()
    trials = emps["past_trial_placements"].astype(int)
    assert (emps["past_hires_after_trial"].astype(int) <= trials).all() and trials[ia].mean() > trials[~ia].mean()


def test_catalogue_codes_and_titles_are_real():
    from matching.taxonomy import occupations
    from matching.taxonomy.titles import normalise_titles

    codes = [o.code for o in OCCUPATIONS]
    assert all(occupations.is_valid_code(c) for c in codes)
    assert all(nace in nace_sections() for ind in INDUSTRIES for nace, _ in ind.variants)
    assert {c for ind in INDUSTRIES for c, _ in ind.occupations} <= set(codes)
    # every title may be written without a code, so the loader must find the code again
    titles = [(o.code, t) for o in OCCUPATIONS for t in o.titles]
    found = normalise_titles([t for _, t in titles])
    wrong = [(c, t, m.code if m else None) for (c, t), m in zip(titles, found) if m is None or m.code != c]
    assert wrong == []


# ------------------------------------------------------------------------------ sizes and varieties


def test_fixture_sizes_meet_the_brief(world):
    opens, ev = world["openings.csv"], world["outcomes.csv"]
    assert len(world["offices.csv"]) >= 5
    assert len(world["employers.csv"]) >= 60
    assert len(opens) >= 250 and (opens["kind"] == "trial").sum() >= 60
    assert 120 <= (opens["status"] == "open").sum() <= 160
    assert set(opens["status"]) == {"open", "filled", "closed"}
    assert len(world["participants.csv"]) >= 150
    assert len(ev) >= 1500
    times = pd.to_datetime(ev["occurred_at"])
    start = pd.Timestamp(REFERENCE_DATE - dt.timedelta(days=730))
    assert times.min() >= start and times.max() <= pd.Timestamp(REFERENCE_DATE + dt.timedelta(days=1))
    assert times.min() < start + pd.Timedelta(days=60)  # the history really spans two years
    assert set(ev["event"]) == set(schema.Event)


def test_openings_vary(world):
    opens = world["openings.csv"]
    assert 0.2 <= (opens["styrk08"] == "").mean() <= 0.4
    assert (opens["hours_per_week"].astype(float) < schema.HOURS_FULL_TIME).mean() > 0.3
    licences = {c for v in opens["required_licences"] for c in _split(v)}
    assert "B" in licences and licences & {"C", "CE", "D"}
    assert (opens["required_skills"] != "").mean() > 0.5
    is_open = opens[opens["status"] == "open"]
    no_deadline = is_open["deadline"] == ""
    assert 0.3 <= no_deadline.mean() <= 0.65
    ahead = (pd.to_datetime(is_open.loc[~no_deadline, "deadline"]) - pd.Timestamp(REFERENCE_DATE)).dt.days
    assert ahead.between(7, 150).all()
    trial = opens["kind"] == "trial"
    assert (opens.loc[trial, "deadline"] == "").mean() > 0.7
    assert (opens["published_at"] <= REFERENCE_DATE.isoformat()).all()
    assert (opens["postal_code"] != "").any()


def test_participants_vary(world):
    parts = world["participants.csv"]
    n = len(parts)
    needs = parts["adaptation_needs"].map(_split)
    categories = needs.map(lambda codes: {adaptations.needs()[c].category for c in codes})
    assert 0.25 <= (needs.map(len) == 0).mean() <= 0.45
    assert (needs.map(len) >= 2).sum() > 0.2 * n and (categories.map(len) >= 2).sum() > 0.1 * n
    assert needs.map(len).max() == 4
    part_time = parts["wants_part_time"] == "true"
    assert 0.2 <= part_time.mean() <= 0.4
    assert parts.loc[part_time, "max_hours_per_week"].astype(float).between(15, 30).all()
    limited = parts["norwegian_level"].isin(["none", "A1", "A2", "B1"])
    assert 0.12 <= limited.mean() <= 0.3
    assert categories[limited].map(lambda c: "utfordringerMedNorsk" in c).any()
    no_licence = parts["driving_licences"] == ""
    assert 0.25 <= no_licence.mean() <= 0.45
    commute = parts["max_commute_km"].astype(float)
    assert commute.between(5, 60).all() and commute[no_licence].mean() < commute[~no_licence].mean()
    assert (parts["goal"] == "trial").mean() >= 0.2 and set(parts["goal"]) == {"job", "trial", "either"}
    assert 0.35 <= (parts["desired_styrk08"] == "").mean() <= 0.65
    assert parts["desired_titles"].map(lambda s: any(t != t.capitalize() for t in _split(s))).any()  # typed variants
    has_needs = needs.map(len) > 0
    assert 0.25 <= (parts.loc[has_needs, "shares_needs_with_employers"] == "true").mean() <= 0.55
    assert (parts.loc[~has_needs, "shares_needs_with_employers"] == "false").all()
    assert (parts["preferred_industries"] != "").any() and (parts["trusted_person"] != "").any()
    assert (parts["experience"] != "").mean() > 0.5 and (parts["skills"] != "").mean() > 0.5
    assert parts["participant_id"].str.fullmatch(r"P-\d{6}").all()


# ------------------------------------------------------------------------------ the outcome history


def test_chains_are_chronological_and_well_formed(world, pairs):
    ev = world["outcomes.csv"].assign(t=pd.to_datetime(world["outcomes.csv"]["occurred_at"]))
    ev["day"] = ev["t"].dt.floor("D")
    steps = ev.sort_values("t", kind="stable").groupby(["participant_id", "opening_id"])
    assert (steps["day"].diff().dropna() >= pd.Timedelta(days=1)).all()  # steps on later days, in order
    for chain in pairs["chain"]:
        assert chain[0] == "suggested" and chain.count("suggested") == 1
        assert all(b in NEXT[a] for a, b in zip(chain, chain[1:])), chain
    first = steps["t"].first().reset_index()
    first = first.merge(pairs[["participant_id", "opening_id", "registered_at", "published_at"]])
    assert (first["t"].dt.strftime("%Y-%m-%d") >= first["registered_at"]).all()
    assert (first["t"].dt.strftime("%Y-%m-%d") >= first["published_at"]).all()
    actors = ev.groupby("event")["actor"].agg(set)
    assert actors["hired"] == {"employer"} and all(a.startswith("veileder-") for a in actors["suggested"])


def test_trial_and_job_paths_and_capacity(world, pairs):
    opens = world["openings.csv"].set_index("opening_id")
    kinds = opens.loc[pairs["opening_id"], "kind"].to_numpy()
    trial_hires = pairs[(kinds == "trial")]["chain"].map(lambda c: c[-2:] == ["trial_started", "hired"])
    job_hires = pairs[(kinds == "job")]["chain"].map(lambda c: c[-2:] == ["interview", "hired"])
    assert trial_hires.sum() > 0 and job_hires.sum() > 0
    assert not pairs[kinds == "job"]["chain"].map(lambda c: "trial_started" in c).any()
    hires = world["outcomes.csv"].query("event == 'hired'")
    job_hires_per_opening = hires[hires["opening_id"].map(opens["kind"]) == "job"]["opening_id"].value_counts()
    assert (job_hires_per_opening <= opens.loc[job_hires_per_opening.index, "positions"].astype(int)).all()
    assert hires["participant_id"].is_unique  # a hired participant leaves the programme


def test_outcomes_are_learnable_but_noisy(pairs):
    rate = pairs["y"].mean()
    assert 0.15 <= rate <= 0.35
    covered = pairs["coverage"] == 1.0
    assert pairs.loc[covered, "y"].mean() > pairs.loc[~covered, "y"].mean()
    assert pairs.loc[pairs["norwegian_gap"] == 0, "y"].mean() > pairs.loc[pairs["norwegian_gap"] > 0, "y"].mean()
    bus = pairs[~pairs["licence"]]
    assert bus.loc[bus["km"] <= bus["km"].median(), "y"].mean() > bus.loc[bus["km"] > bus["km"].median(), "y"].mean()
    assert 0.05 < rate < 0.95  # nothing is certain


def test_occupation_fit_predicts_outcomes(tmp_path):
    """On a larger world: pairs in a wished occupation succeed clearly more often."""
    generate_world(tmp_path, seed=5, n_participants=1500, n_employers=150, n_openings=1200)
    w = _read(tmp_path)
    parts = w["participants.csv"].set_index("participant_id")
    opens = w["openings.csv"].set_index("opening_id")
    codes = {o.code for o in OCCUPATIONS}
    ev = w["outcomes.csv"]
    chains = ev.groupby(["participant_id", "opening_id"])["event"].agg(set).reset_index()
    # participants without registered codes are left out (their codes come from the loader)
    p = parts.loc[chains["participant_id"]]
    known = (p["desired_styrk08"] != "").to_numpy()
    o = opens.loc[chains["opening_id"]]
    o_code = np.where(o["styrk08"] != "", o["styrk08"], "")
    fit = np.array([c in _split(d) for c, d in zip(o_code, p["desired_styrk08"])])
    y = chains["event"].map(lambda s: bool(POSITIVE & s)).to_numpy()
    mask = known & (o_code != "")
    assert mask.sum() > 2000 and codes
    assert y[mask & fit].mean() > 1.5 * y[mask & ~fit].mean()


# ------------------------------------------------------------------------------ scale


def test_generation_scales(tmp_path):
    t0 = time.perf_counter()
    counts = generate_world(tmp_path, seed=3, n_participants=2000, n_employers=200, n_openings=800)
    elapsed = time.perf_counter() - t0
    assert counts["participants"] == 2000 and counts["openings"] == 800 and counts["outcomes"] > 10 * 2000 / 2
    assert elapsed < 10, elapsed
    w = _read(tmp_path)
    for name, model in schema.FILES.items():
        rows = w[name].to_dict("records")
        for row in rows[:: max(1, len(rows) // 300)]:
            model.model_validate(row)
    assert set(w["outcomes.csv"]["opening_id"]) <= set(w["openings.csv"]["opening_id"])


def test_degenerate_sizes(tmp_path):
    assert generate_world(tmp_path, n_participants=0, n_openings=0, n_employers=1)["outcomes"] == 0
    with pytest.raises(ValueError):
        generate_world(tmp_path, n_employers=0)


# ------------------------------------------------------------------------------ skills reference


def test_skills_reference():
    table = skills.skills()
    assert len(table) > 13_000 and all(i.startswith("esco:") and len(i) == 13 for i in table)
    ess, opt = skills.occupation_skills("5223")
    assert 0 < len(ess) <= 25 and 0 < len(opt) <= 15 and all(skills.is_known(s) for s in ess + opt)
    assert skills.occupation_skills("9999") == ((), ())
    assert all(skills.occupation_skills(o.code)[0] for o in OCCUPATIONS)  # Norway-only 2223/2224 too
    assert skills.label("esco:nothere") == "esco:nothere"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sell products", "sell products"),
        ("Sell  Products", "sell products"),
        ("products sell", "sell products"),
        ("stock shelfs", "stock shelves"),
        ("Norwegian", "Norwegian"),
        ("cleaning", None),  # a fragment is not the longer label containing it
        ("a", None),
        ("", None),
    ],
)
def test_canonical_skill(text, expected):
    found = skills.canonical_skill(text)
    assert (skills.label(found) if found else None) == expected
    sid = skills.canonical_skill("sell products")
    assert skills.canonical_skill(sid) == sid


# ------------------------------------------------------------------------------ what people type


def test_the_title_normaliser_recovers_what_people_type(world):
    """Rows with registered codes pair each typed title with its code. The generator no longer
    asks the engine's normaliser which variants to keep (worldgen imports none of it), so this
    measures the normaliser on what the world types: the code, or one the engine's proximity
    table puts near or closer, for nearly every title (137 of 139 on the committed fixtures)."""
    from matching.taxonomy import proximity
    from matching.taxonomy.titles import normalise_titles

    parts = world["participants.csv"]
    pairs = [
        (t, c)
        for ts, cs in zip(parts["desired_titles"], parts["desired_styrk08"])
        if cs
        for t, c in zip(_split(ts), _split(cs))
        if len(_split(ts)) == len(_split(cs))
    ]
    assert len(pairs) >= 100
    found = normalise_titles([t for t, _ in pairs])
    bad = [
        (t, c, m.code if m else None)
        for (t, c), m in zip(pairs, found)
        if m is None or (m.code != c and proximity.proximity(c, m.code)["level"] < proximity.NEAR)
    ]
    assert len(bad) <= 0.05 * len(pairs), bad


def test_a_participant_without_codes_writes_a_catalogue_title_first(world):
    """What keeps every generated profile loadable without the generator consulting the
    normaliser: the first title of someone who gives no codes is a catalogue title (as written
    or in lower case), and every catalogue title normalises back to its code."""
    from worldgen.catalogue import OCCUPATIONS

    catalogue = {t.casefold() for o in OCCUPATIONS for t in o.titles}
    parts = world["participants.csv"]
    codeless = parts[parts["desired_styrk08"] == ""]
    assert len(codeless) >= 50
    assert all(_split(ts)[0].casefold() in catalogue for ts in codeless["desired_titles"])
    assert any(t.casefold() not in catalogue for ts in codeless["desired_titles"] for t in _split(ts)[1:])


def test_typed_titles_and_skills_vary_like_real_profiles(world):
    from matching.taxonomy.skills import aliases_nb, canonical_skill
    from worldgen.catalogue import OCCUPATIONS

    parts = world["participants.csv"]
    titles = [t for ts in parts["desired_titles"] for t in _split(ts)]
    catalogue = {t for o in OCCUPATIONS for t in o.titles}
    assert sum(t not in catalogue for t in titles) / len(titles) > 0.5
    assert any(t == t.lower() and t not in catalogue for t in titles)  # lower case
    assert any(t.endswith(")") and t not in catalogue for t in titles)  # context added
    assert any(t.isascii() and " " in t and t[0].islower() for t in titles)  # e.g. English labels
    assert 0.05 < (parts["skills"] == "").mean() < 0.3  # some list none: their skills are inferred
    listed = [s for x in parts["skills"] for s in _split(x)]
    text = [s for s in listed if not skills.is_known(s)]
    assert 0.2 < len(text) / len(listed) < 0.7
    assert all(canonical_skill(s) is not None for s in text)  # free text the loader recognises
    nb = {a for aliases in aliases_nb().values() for a in aliases}
    assert any(s in nb for s in text)


def test_spellings_and_the_plain_first_title():
    from worldgen import typed

    assert typed.spell("Lagermedarbeider", 0.8, 0, "warehouse") == "Lager medarbeider"
    assert typed.spell("Lagermedarbeider", 0.99, 0, "warehouse") == "Lagermedarbeider (lager)"
    assert typed.spell("Lagermedarbeider", 0.5, 0, "warehouse") == "lagermedarbeider"
    # plain = a catalogue title (source draw < 0.55) as written or lower case (spelling draw < 0.65)
    assert typed.is_plain(0.1, 0.1) and typed.is_plain(0.5, 0.6)
    assert not typed.is_plain(0.6, 0.1) and not typed.is_plain(0.1, 0.7)


def test_outcome_simulation_reads_occupational_fit_from_its_own_similarity():
    """Truck driver → warehouse worker share no STYRK digit yet are close in the generator's own
    table; nurse → bus driver is far; the table is symmetric and padding (-1) is far. It is the
    generator's, not the engine's: improving matching.taxonomy.proximity changes nothing here
    (the import contract in tests/test_layers.py)."""
    from worldgen import similarity
    from worldgen.catalogue import OCCUPATIONS
    from worldgen.outcomes import _code_match

    got = _code_match(np.array([4321, 8331, 4321]), np.array([[8344, -1], [2223, -1], [4321, 8344]]))
    assert got[0] == similarity.CLOSE
    assert got[1] == similarity.FAR
    assert got[2] == similarity.SAME
    codes = np.array([int(o.code) for o in OCCUPATIONS])
    table = similarity.level(codes[:, None], codes[None, :])
    assert (table == table.T).all() and (np.diag(table) == similarity.SAME).all()
    assert similarity.level(np.array([5321]), np.array([5329]))[0] == similarity.CLOSE  # same minor group 532
    assert similarity.level(np.array([5321]), np.array([-1]))[0] == similarity.FAR


def _replay_pairs(w, per_participant: int = 4):
    """Each participant suggested `per_participant` random openings on one day just after the history."""
    rng = np.random.default_rng(7)
    n_p, n_o = len(w.participants), len(w.openings)
    pair_p = np.repeat(np.arange(n_p), per_participant)
    pair_o = rng.integers(0, n_o, len(pair_p))
    s_day = (w.span + 1 + rng.integers(0, 30, n_p))[pair_p]
    keep = np.unique(pair_p * n_o + pair_o, return_index=True)[1]  # each pair once
    return pair_p[keep], pair_o[keep], s_day[keep]


def _chains(events: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for r in events.itertuples():
        out.setdefault((r.participant_id, r.opening_id), []).append((r.event, r.reason, r.occurred_at))
    return out


def test_keyed_draws_give_each_pair_its_own_outcome_whatever_else_is_resolved():
    """`Draws.keyed`: a participant's chains do not depend on which other participants are
    resolved beside them, nor in which order (places unlimited here, so only the draws could
    tie them); a different key gives other outcomes; and the generator's sequential stream
    (the fixtures, tested byte for byte above) is what `resolve` draws from a Generator."""
    from worldgen import build_world
    from worldgen.outcomes import Draws, resolve

    w = build_world(seed=5, n_participants=60, n_openings=120, scope="trondheim")
    opens = w.openings.assign(positions=1000)
    pair_p, pair_o, s_day = _replay_pairs(w)
    horizon = w.span + 150

    def chains(draws, rows):
        ev, _, out = resolve(draws, w.participants, opens, w.employers, w.region, horizon, w.start, pair_p[rows], pair_o[rows], s_day[rows])
        return _chains(ev), out

    every = np.arange(len(pair_p))
    all_, out = chains(Draws.keyed(3), every)
    assert (out["start_day"] >= 0).sum() > 5  # there is something to compare
    half = np.flatnonzero(pair_p < 30)[::-1]  # another subset, in another order
    part, _ = chains(Draws.keyed(3), half)
    assert part and all(all_[k] == v for k, v in part.items())
    other, _ = chains(Draws.keyed(4), every)
    assert other != all_
    ev_seq, _, _ = resolve(np.random.default_rng(9), w.participants, opens, w.employers, w.region, horizon, w.start, pair_p, pair_o, s_day)
    ev_wrapped, _, _ = resolve(
        Draws(np.random.default_rng(9)), w.participants, opens, w.employers, w.region, horizon, w.start, pair_p, pair_o, s_day
    )
    assert ev_seq.equals(ev_wrapped)


def test_keyed_draws_resolve_a_period_in_segments():
    """With keyed draws, resolving up to an earlier day gives exactly the events up to that day
    of a later resolution, capacity included: a replay can refresh its lists between segments
    (benchmarks/allocation.py) without reshuffling what already happened."""
    from worldgen import build_world
    from worldgen.outcomes import Draws, resolve

    w = build_world(seed=6, n_participants=80, n_openings=60, scope="trondheim")
    pair_p, pair_o, s_day = _replay_pairs(w, per_participant=6)
    late, _, out = resolve(Draws.keyed(1), w.participants, w.openings, w.employers, w.region, w.span + 150, w.start, pair_p, pair_o, s_day)
    assert out["full"].sum() > 0  # capacity binds
    for cut in (w.span + 10, w.span + 25, w.span + 60):
        early, _, _ = resolve(Draws.keyed(1), w.participants, w.openings, w.employers, w.region, cut, w.start, pair_p, pair_o, s_day)
        until = (w.start + dt.timedelta(days=cut + 1)).isoformat()
        assert early.reset_index(drop=True).equals(late[late["occurred_at"] < until].reset_index(drop=True))
