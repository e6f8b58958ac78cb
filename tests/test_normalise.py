"""Normalisation happens once (matching/normalise.py), for the bulk load and POST /v1/match
alike: a participant as written in participants.csv — titles without codes, skills as free
text — ranks the same whether it was loaded or posted."""

from __future__ import annotations

import csv

import pytest

from matching import schema
from matching.taxonomy import skills
from tests.conftest import DATA, TODAY, participant_rows

#: The office stays: which openings are the participant's own office's counts (criteria/office.py).
NOT_IN_BODY = ("participant_id", "registered_at")


def _as_written() -> dict[str, dict]:
    """participants.csv rows that leave every normalisation to the engine: no desired
    codes, some skills written as text, not ids."""
    with (DATA / "participants.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for raw in rows:
        listed = [s for s in raw["skills"].split("|") if s]
        if raw["desired_styrk08"] or not any(not skills.is_known(s) for s in listed):
            continue
        p = schema.Participant.model_validate({k: v for k, v in raw.items() if v != ""}, context={"today": TODAY})
        out[p.participant_id] = p.model_dump(mode="json", exclude=set(NOT_IN_BODY))
    return out


AS_WRITTEN = _as_written()
SAMPLE = sorted(AS_WRITTEN)[:6]


def test_the_sample_needs_every_normalisation():
    assert len(SAMPLE) == 6
    for pid in SAMPLE:
        body = AS_WRITTEN[pid]
        assert body["desired_styrk08"] == [] and body["desired_titles"]
        assert any(not skills.is_known(s) for s in body["skills"])


@pytest.mark.parametrize("pid", SAMPLE)
def test_a_profile_posted_as_written_ranks_like_the_loaded_participant(client, auth, world, pid):
    stored = next(p for p in participant_rows(world) if p["participant_id"] == pid)
    assert stored["desired_styrk08"]  # the loader found codes for the titles
    params = {"limit": 10, "lang": "en"}
    posted = client.post("/v1/match", params=params, json=AS_WRITTEN[pid], headers=auth("adviser"))
    assert posted.status_code == 200, posted.text
    loaded = client.get(f"/v1/participants/{pid}/matches", params={**params, "fresh": "true"}, headers=auth("admin"))
    assert loaded.status_code == 200, loaded.text
    # same openings, scores and reasons (which quote the normalised codes and skills)
    assert posted.json()["matches"] == loaded.json()["matches"]
    assert posted.json()["matches"]


def test_a_posted_profile_with_codes_as_the_loader_found_them_ranks_the_same(client, auth, world):
    pid = SAMPLE[0]
    stored = next(p for p in participant_rows(world) if p["participant_id"] == pid)
    with_codes = {**AS_WRITTEN[pid], "desired_styrk08": stored["desired_styrk08"], "skills": stored["skills"]}
    a = client.post("/v1/match", params={"limit": 10}, json=AS_WRITTEN[pid], headers=auth("adviser")).json()
    b = client.post("/v1/match", params={"limit": 10}, json=with_codes, headers=auth("adviser")).json()
    assert a["matches"] == b["matches"]
