"""Reason texts: every criterion renders in both languages and quotes real values; the
employer-facing form names no need of anyone who did not consent and no exact distance."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.criteria import ALL, BY_NAME
from matching.engine import MatchEngine
from matching.explain import feature_rows, reasons
from matching.pairs import Pairs
from matching.taxonomy import adaptations
from tests.synthetic import AS_OF, build_world, monotone_models, opening, participant, worlds

NEED_WORDS = (
    [n.code for n in adaptations.needs().values()]
    + [n.label_nb.lower() for n in adaptations.needs().values()]
    + [n.label_en.lower() for n in adaptations.needs().values()]
)


def test_every_criterion_declares_ordered_levels_in_both_languages():
    assert len({c.name for c in ALL}) == len(ALL)
    for c in ALL:
        assert c.n_levels >= 2
        assert c.direction in ("increasing", "decreasing")
        for level in range(c.n_levels):
            assert c.level_label(level, "nb") and c.level_label(level, "en")


@settings(max_examples=40, deadline=None)
@given(worlds(), monotone_models())
def test_texts_quote_values_and_the_employer_view_hides_needs_and_homes(world, model):
    engine = MatchEngine(world, model, AS_OF)
    for items in engine.recommend(np.arange(len(world.participants)), k=100).values():
        for s in items:
            for lang in ("nb", "en"):
                rows = feature_rows(s.explanation, lang)
                assert [r["feature"] for r in rows] == [c.name for c in ALL]
                for r in rows:
                    assert r["text"].strip()
                dist = next(r for r in rows if r["feature"] == "distance")
                limit = f"{s.explanation.features['distance'].values['limit']:.0f}"
                assert f"({'limit' if lang == 'en' else 'grense'} {limit} km)" in dist["text"]
    consent = dict(zip(world.participants.ids, world.participants.frame["shares_needs_with_employers"]))
    for items in engine.candidates(np.arange(len(world.openings)), k=100).values():
        for s in items:
            for lang in ("nb", "en"):
                rows = feature_rows(s.explanation, lang)
                dist = next(r for r in rows if r["feature"] == "distance")
                assert re.fullmatch(
                    r"(Bor|Lives) (under \d+|\d+–\d+|over \d+) km (unna i luftlinje|away in a straight line)"
                    r"|Avstand fra bosted oppgis ikke \(stort bostedsområde\)"
                    r"|Distance from home not stated \(a large home area\)",
                    dist["text"],
                ), dist["text"]
                assert not re.search(r"\d km\)|(limit|grense) \d", dist["text"])  # no limit figure either
                if consent[s.participant_id]:
                    continue
                seen = " ".join(r["text"].lower() for r in reasons(s.explanation, lang, max_positive=20, max_negative=20))
                seen += " ".join(str(r["values"]) + r["text"].lower() for r in rows)
                assert not [w for w in NEED_WORDS if w.lower() in seen]
                adaptation = s.explanation.features["adaptation"]
                assert adaptation.level == BY_NAME["adaptation"].not_assessed_level
                assert adaptation.contribution == 0.0


def test_adaptation_text_names_missing_needs_for_advisers():
    crit = BY_NAME["adaptation"]
    from matching.world import NEED_CODES

    needs = (1 << NEED_CODES.index("ERGONOMI")) | (1 << NEED_CODES.index("TUNGE_LØFT"))
    covered = 1 << NEED_CODES.index("ERGONOMI")
    text = crit.text(1, {"needs_mask": needs, "covered_mask": covered}, "nb")
    assert "1 av 2" in text and "unngå tunge løft" in text
    for lang in ("nb", "en"):
        hidden = crit.text(crit.not_assessed_level, {"needs_mask": needs, "covered_mask": covered}, lang).lower()
        assert hidden and not [w for w in NEED_WORDS if w.lower() in hidden]
        assert crit.level_label(crit.not_assessed_level, lang) in ("ikke vurdert", "not assessed")


@settings(max_examples=30, deadline=None)
@given(worlds(), monotone_models())
def test_uninformative_values_are_never_headline_reasons(world, model):
    """No needs registered / no industry preference say nothing about fit: not a reason."""
    engine = MatchEngine(world, model, AS_OF)
    for items in engine.recommend(np.arange(len(world.participants)), k=100).values():
        for s in items:
            shown = {r["feature"] for r in reasons(s.explanation, "en", max_positive=20, max_negative=20)}
            feats = s.explanation.features
            if feats["adaptation"].values["needs_mask"] == 0:
                assert "adaptation" not in shown
            if feats["industry"].values["prefs"] == 0:
                assert "industry" not in shown
            assert {r["feature"] for r in feature_rows(s.explanation, "en")} == set(feats)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_the_office_level_is_whether_the_participants_own_office_lists_the_opening(data):
    offices = ["nav-heimdal", "nav-lerkendal", "nav-midtbyen"]
    # a participant's office may list no opening at all (nav-orkland): it is no one's own office
    ps = [{**data.draw(participant(f"P-{i}")), "office_id": data.draw(st.sampled_from([*offices, "nav-orkland"]))} for i in range(3)]
    os_ = [{**data.draw(opening(f"O-{i}")), "office_id": data.draw(st.sampled_from(offices))} for i in range(4)]
    world = build_world(ps, os_)
    pairs = Pairs.build(world, np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3), AS_OF.toordinal())
    crit = BY_NAME["office"]
    level = crit.level(pairs)
    same = np.array([ps[p]["office_id"] == os_[o]["office_id"] for p, o in zip(pairs.p, pairs.o)])
    assert (level == same).all()
    values = crit.values(pairs)
    assert crit.level_of_values is not None and (crit.level_of_values(values) == level).all()
    for i in range(len(pairs)):
        v = {k: a[i] for k, a in values.items()}
        for lang in ("nb", "en"):
            text = crit.reason(int(level[i]), v, lang)
            assert os_[pairs.o[i]]["office_id"] in text  # quotes the listing office
        assert bool(crit.uninformative and crit.uninformative(v)) == (not same[i])  # another office: no headline


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_quoted_office_and_shared_postal_code_are_the_texts_compared(data):
    """The office and postal codes are encoded once per snapshot for the values (issue 10):
    what they quote must be what comparing the texts per pair says, codes no opening has and
    codes of no participant included."""
    codes = ["7030", "7031", "7041", "0150"]
    ps = [{**data.draw(participant(f"P-{i}")), "postal_code": data.draw(st.sampled_from([*codes, "9990"]))} for i in range(3)]
    os_ = [{**data.draw(opening(f"O-{i}")), "postal_code": data.draw(st.sampled_from(codes))} for i in range(4)]
    world = build_world(ps, os_)
    pairs = Pairs.build(world, np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3), AS_OF.toordinal())
    shared = BY_NAME["distance"].values(pairs)["postal_code_shared"]
    assert shared.tolist() == [ps[p]["postal_code"] == os_[o]["postal_code"] for p, o in zip(pairs.p, pairs.o)]
    office = BY_NAME["office"].values(pairs)["office"]
    assert office.tolist() == [os_[o]["office_id"] for o in pairs.o] and all(type(x) is str for x in office.tolist())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from([-1, 5223, 7231, 9112]), st.sampled_from([0.0, 0.25, 1.0, 2.5, 1 / 3, 12.0])), min_size=3, max_size=3
        ),
        max_size=6,
    )
)
def test_experience_detail_is_each_job_as_code_and_years(rows):
    """`_experience_detail` formats each distinct (code, years) once; the text must be each
    row's own entries, in column order, as f"{code}:{years:g}" — no entry of another row."""
    from matching.criteria.occupation import _experience_detail

    codes = np.array([[c for c, _ in r] for r in rows], dtype=np.int64).reshape(len(rows), 3)
    years = np.array([[y for _, y in r] for r in rows], dtype=float).reshape(len(rows), 3)
    want = ["|".join(f"{c}:{y:g}" for c, y in r if c >= 0 and y > 0) for r in rows]
    assert _experience_detail(codes, years).tolist() == want


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_the_freshness_level_is_the_days_since_publication_and_moves_with_the_day(data):
    days_ago = [data.draw(st.integers(0, 200)) for _ in range(4)]
    os_ = [{**data.draw(opening(f"O-{i}")), "published_at": AS_OF - dt.timedelta(days=d)} for i, d in enumerate(days_ago)]
    world = build_world([data.draw(participant("P-0"))], os_)
    pairs = Pairs.build(world, np.zeros(4, dtype=np.int64), np.arange(4), AS_OF.toordinal())
    crit = BY_NAME["freshness"]
    level = crit.level(pairs)
    expected = [4 if d <= 7 else 3 if d <= 14 else 2 if d <= 30 else 1 if d <= 60 else 0 for d in days_ago]
    assert level.tolist() == expected
    values = crit.values(pairs)
    assert crit.level_of_values is not None and (crit.level_of_values(values) == level).all()
    later = data.draw(st.integers(0, 90))
    moved = Pairs.build(world, pairs.p, pairs.o, AS_OF.toordinal() + later)
    for i, d in enumerate(days_ago):
        v = {k: a[i] for k, a in values.items()}
        for lang, today, yesterday, n_days in (("nb", "i dag", "i går", f"{d} dager"), ("en", "today", "yesterday", f"{d} days")):
            text = crit.reason(int(level[i]), v, lang)
            assert (today if d == 0 else yesterday if d == 1 else n_days) in text  # "1 dager" is no Norwegian
            assert (AS_OF - dt.timedelta(days=d)).isoformat() in text
        assert crit.on_day is not None
        assert int(crit.on_day(v, AS_OF.toordinal() + later)["days"]) == d + later == int(crit.values(moved)["days"][i])
        assert bool(crit.uninformative and crit.uninformative(v)) == (d > 60)  # an old listing: no headline


def test_day_counts_read_as_words_for_today_and_one_day():
    """'Søknadsfrist om 1 dager' / 'Utlyst for 0 dager siden' are not Norwegian (nor English)."""
    day = AS_OF.toordinal()
    deadline, freshness = BY_NAME["deadline"], BY_NAME["freshness"]
    cases = [
        (deadline, {"days": 0, "deadline": day}, "Søknadsfrist i dag", "Application deadline today"),
        (deadline, {"days": 1, "deadline": day + 1}, "Søknadsfrist i morgen", "Application deadline tomorrow"),
        (deadline, {"days": 9, "deadline": day + 9}, "Søknadsfrist om 9 dager", "Application deadline in 9 days"),
        (freshness, {"days": 0, "published": day}, "Utlyst i dag", "Published today"),
        (freshness, {"days": 1, "published": day - 1}, "Utlyst i går", "Published yesterday"),
        (freshness, {"days": 9, "published": day - 9}, "Utlyst for 9 dager siden", "Published 9 days ago"),
    ]
    for crit, v, nb, en in cases:
        assert crit.reason(0, v, "nb").startswith(nb)
        assert crit.reason(0, v, "en").startswith(en)
