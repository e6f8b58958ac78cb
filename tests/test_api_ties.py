"""Issue 11, ties: lists tell their entries apart by what differs, through the HTTP API.

Openings at one employer alike on every criterion are one entry (`similar_openings`), the
same in stored and live lists; the employer's inclusion record has levels of 5 points, with
labels in both languages; a tie left is marked."""

from __future__ import annotations

import pytest

from tests.conftest import opening_rows, participant_rows


def _levels(client, h, pid, oid):
    pair = client.get(f"/v1/participants/{pid}/matches/{oid}", params={"lang": "en"}, headers=h).json()
    return {f["feature"]: f["level"] for f in pair["features"]}, pair["score"]


@pytest.fixture(scope="module")
def grouped(client, auth, world):
    """Every fixture participant's live top 10 (nb), and the openings' employer and kind."""
    h = auth("admin")
    where = {o["opening_id"]: (o["orgnr"], o["kind"]) for o in opening_rows(world)}
    out = {}
    for p in participant_rows(world):
        pid = p["participant_id"]
        out[pid] = client.get(f"/v1/participants/{pid}/matches", params={"limit": 10}, headers=h).json()["matches"]
    return out, where


def test_similar_openings_at_one_employer_are_one_entry(client, auth, grouped):
    lists, where = grouped
    h = auth("admin")
    checked = 0
    for pid, matches in lists.items():
        assert [m["rank"] for m in matches] == list(range(1, len(matches) + 1))
        leads = {}
        for m in matches:
            for s in m["similar_openings"]:
                assert where[s["opening_id"]] == where[m["opening_id"]], (pid, m["opening_id"], s)  # employer and kind
                if checked < 12:  # alike on every criterion: the same levels, the same score
                    assert _levels(client, h, pid, s["opening_id"]) == _levels(client, h, pid, m["opening_id"])
                    checked += 1
            if checked < 12 or m["similar_openings"]:
                leads[m["opening_id"]] = m
        # no two entries of a list are alike: alike ones would have been one entry
        keys = [(where[oid], tuple(sorted(_levels(client, h, pid, oid)[0].items()))) for oid in list(leads)[:10]]
        assert len(keys) == len(set(keys)), pid
        if len(matches) == 10:
            shown = {m["opening_id"] for m in matches} | {s["opening_id"] for m in matches for s in m["similar_openings"]}
            assert len(shown) >= 10
    assert checked, "no list of the fixtures has similar openings to group"


def test_grouped_lists_are_the_same_stored_and_live(pub_client, auth, published):
    h = auth("admin")
    seen = 0
    for pid in [p["participant_id"] for p in participant_rows(published.settings)][:60]:
        stored = pub_client.get(f"/v1/participants/{pid}/matches", params={"limit": 10}, headers=h).json()
        live = pub_client.get(f"/v1/participants/{pid}/matches", params={"limit": 10, "fresh": "true"}, headers=h).json()
        assert stored["run_id"] is not None and live["run_id"] is None
        strip = [
            (m["opening_id"], m["score"], m["tied_with_previous"], [s["opening_id"] for s in m["similar_openings"]])
            for m in stored["matches"]
        ]
        assert strip == [
            (m["opening_id"], m["score"], m["tied_with_previous"], [s["opening_id"] for s in m["similar_openings"]])
            for m in live["matches"]
        ]
        seen += sum(bool(m["similar_openings"]) for m in stored["matches"])
    assert seen


def test_ties_left_are_marked_and_rare(grouped):
    lists, _ = grouped
    entries = tied = 0
    for matches in lists.values():
        for above, m in zip(matches, matches[1:]):
            assert m["tied_with_previous"] == (m["score"] == above["score"])
            tied += m["tied_with_previous"]
        entries += len(matches)
    assert tied / entries <= 0.05, (tied, entries)  # issue 11's goal, on the fixtures


@pytest.mark.parametrize("lang,words", [("nb", "glattet ansettelsesandel"), ("en", "smoothed hire share")])
def test_inclusion_levels_are_bands_of_the_smoothed_hire_share_in_both_languages(client, auth, grouped, lang, words):
    lists, _ = grouped
    h = auth("admin")
    labels = set()
    for pid, matches in list(lists.items())[:60]:
        for m in matches[:3]:
            pair = client.get(f"/v1/participants/{pid}/matches/{m['opening_id']}", params={"lang": lang}, headers=h).json()
            inc = next(f for f in pair["features"] if f["feature"] == "inclusion")
            assert words in inc["level_label"]
            assert inc["effect"] == {True: "0", False: inc["effect"]}[inc["level"] == 2]  # 25–35 %: the neutral band
            labels.add(inc["level_label"])
    assert len(labels) >= 3  # the fixtures' employers fall in several bands


@pytest.mark.parametrize("lang,words", [("nb", "hos samme arbeidsgiver"), ("en", "at this employer")])
def test_the_workbench_names_the_similar_openings(world, grouped, lang, words):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_token

    lists, _ = grouped
    pid, entry = next((pid, m) for pid, ms in lists.items() for m in ms if m["similar_openings"])
    page_client = TestClient(create_app(world))
    page_client.cookies.set("matching_session", create_token("admin-1", "admin", [], world))
    page = page_client.get(f"/participants/{pid}", params={"lang": lang}).text
    assert words in page
    assert all(s["opening_id"] in page for s in entry["similar_openings"])
