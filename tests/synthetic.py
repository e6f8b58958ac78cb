"""Small synthetic worlds built straight from records (no database), for property tests.

Hypothesis strategies draw participants and openings from a handful of real Trondheim-area
postal codes and real codes, so constraints bite (distances 0–60 km) and levels vary.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from matching import schema
from matching.criteria import ALL
from matching.scoring import ScoringModel
from matching.taxonomy import adaptations, places
from matching.world import Openings, Participants, World, participants_from_records, skill_vocabulary

AS_OF = dt.date(2026, 11, 16)
POSTAL = ["7018", "7030", "7045", "7080", "7081", "7089", "7224", "7300", "7500", "7550"]
STYRK = ["5223", "5120", "5322", "9112", "9321", "4321", "8322", "2223", "5311", "7112"]
SKILLS = [f"esco:s{i:02d}" for i in range(12)]
NEEDS = sorted(adaptations.needs())
LICENCES = ["B", "C", "CE"]

subset = lambda xs, max_size=4: st.lists(st.sampled_from(xs), max_size=max_size, unique=True)  # noqa: E731


@st.composite
def participant(draw, pid: str) -> dict:
    postal = draw(st.sampled_from(POSTAL))
    place = places.lookup(postal)
    desired = draw(st.lists(st.sampled_from(STYRK), min_size=1, max_size=3, unique=True))
    return {
        "participant_id": pid,
        "office_id": "nav-heimdal",
        "registered_at": dt.date(2025, 1, 1),
        "postal_code": postal,
        "lat": place.lat,
        "lon": place.lon,
        "max_commute_km": draw(st.sampled_from([5.0, 10.0, 20.0, 35.0, 60.0])),
        "desired_titles": ["x"],
        "desired_styrk08": desired,
        "skills": draw(subset(SKILLS, 6)),
        "experience": [{"styrk08": c, "years": draw(st.sampled_from([0.5, 2.0, 6.0]))} for c in draw(subset(STYRK, 2))],
        "education_level": draw(st.sampled_from(schema.EDUCATION_LEVELS)),
        "norwegian_level": draw(st.sampled_from(schema.NORWEGIAN_LEVELS)),
        "driving_licences": draw(subset(LICENCES, 2)),
        "max_hours_per_week": draw(st.sampled_from([15.0, 20.0, 30.0, 37.5])),
        "wants_part_time": draw(st.booleans()),
        "available_from": draw(
            st.one_of(
                st.none(), st.sampled_from([AS_OF - dt.timedelta(days=10), AS_OF + dt.timedelta(days=20), AS_OF + dt.timedelta(days=90)])
            )
        ),
        "goal": draw(st.sampled_from(["job", "trial", "either"])),
        "adaptation_needs": sorted(draw(subset(NEEDS, 4))),
        "shares_needs_with_employers": draw(st.booleans()),
        "preferred_industries": draw(subset(["G", "Q", "H", "F"], 2)),
        "trusted_person": None,
    }


@st.composite
def opening(draw, oid: str) -> dict:
    postal = draw(st.sampled_from(POSTAL))
    place = places.lookup(postal)
    hires_trials = draw(st.tuples(st.integers(0, 10), st.integers(0, 10)))
    return {
        "opening_id": oid,
        "orgnr": "974760673",
        "kind": draw(st.sampled_from(["job", "trial"])),
        "title": "x",
        "styrk08": draw(st.sampled_from(STYRK)),
        "styrk08_source": "given",
        "required_skills": draw(subset(SKILLS, 4)),
        "optional_skills": draw(subset(SKILLS, 3)),
        "required_licences": draw(subset(LICENCES, 1)),
        "min_norwegian": draw(st.sampled_from(schema.NORWEGIAN_LEVELS)),
        "min_education": draw(st.sampled_from(schema.EDUCATION_LEVELS)),
        "hours_per_week": draw(st.sampled_from([10.0, 20.0, 30.0, 37.5])),
        "positions": 1,
        "postal_code": postal,
        "lat": place.lat,
        "lon": place.lon,
        "start_date": draw(
            st.one_of(
                st.none(), st.sampled_from([AS_OF - dt.timedelta(days=5), AS_OF + dt.timedelta(days=14), AS_OF + dt.timedelta(days=45)])
            )
        ),
        "deadline": draw(
            st.one_of(
                st.none(),
                st.sampled_from([AS_OF - dt.timedelta(days=3), AS_OF, AS_OF + dt.timedelta(days=5), AS_OF + dt.timedelta(days=60)]),
            )
        ),
        "status": draw(st.sampled_from(["open", "open", "open", "filled"])),
        "adaptations_offered": sorted(draw(subset(NEEDS, 6))),
        "office_id": "nav-heimdal",
        # on or before the earliest deadline drawn above (AS_OF - 3 days)
        "published_at": draw(st.sampled_from([AS_OF - dt.timedelta(days=d) for d in (4, 10, 20, 46, 120)])),
        "employer_name": "Test AS",
        "nace_section": draw(st.sampled_from(["G", "Q", "H", "F"])),
        "employer_adaptations": sorted(draw(subset(NEEDS, 4))),
        "inclusive_workplace_agreement": draw(st.booleans()),
        "past_trial_placements": max(hires_trials),
        "past_hires_after_trial": min(hires_trials),
    }


def build_world(p_records: list[dict], o_records: list[dict]) -> World:
    of = pd.DataFrame.from_records(o_records)
    of["adaptations_all"] = [sorted(set(a) | set(b)) for a, b in zip(of["adaptations_offered"], of["employer_adaptations"])]
    return World(participants_from_records(p_records), Openings(of), skill_vocabulary(of))


@st.composite
def worlds(draw, max_participants: int = 6, max_openings: int = 12) -> World:
    n_p = draw(st.integers(1, max_participants))
    n_o = draw(st.integers(1, max_openings))
    ps = [draw(participant(f"P-{i:03d}")) for i in range(n_p)]
    os_ = [draw(opening(f"O-{i:03d}")) for i in range(n_o)]
    return build_world(ps, os_)


@st.composite
def monotone_models(draw) -> ScoringModel:
    """Any model of the shipped family: non-negative steps, centred arbitrarily."""
    weights = []
    for c in ALL:
        steps = draw(st.lists(st.floats(0, 3, allow_nan=False), min_size=c.n_levels - 1, max_size=c.n_levels - 1))
        cum = np.concatenate([[0.0], np.cumsum(steps)])
        weights.append(cum - draw(st.floats(0, 3, allow_nan=False)))
    return ScoringModel("test", tuple(c.name for c in ALL), weights, draw(st.floats(-3, 3, allow_nan=False)))


_ = Participants  # re-exported for tests that build frames by hand
