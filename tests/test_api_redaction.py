"""Health data in the employer-facing view: no adaptation need (code or label, nb or en)
anywhere in an opening's candidate list unless that participant consented, and for those
who did not, the adaptation criterion is not part of the list at all (no reason, no
contribution). The list is the same for every role that may read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matching.store import tables as t
from matching.taxonomy import adaptations
from tests.conftest import opening_rows, participant_rows

NEEDS = adaptations.needs().values()
CODES = sorted(n.code for n in NEEDS)
LABELS = sorted({label for n in NEEDS for label in (n.label_nb, n.label_en)})
_LABEL_RE = re.compile("|".join(rf"\b{re.escape(label)}\b" for label in LABELS), re.IGNORECASE)


def leaks(text: str) -> list[str]:
    """Every need code or need label that occurs in text."""
    return [c for c in CODES if c in text] + _LABEL_RE.findall(text)


def test_leak_detector_finds_codes_and_labels():
    need = next(iter(NEEDS))
    assert leaks(f"mangler: {need.label_nb.lower()}") and leaks(need.code) and leaks(need.label_en.upper())
    assert leaks("Arbeidsplassens tilretteleggingstilbud passer") == []


@pytest.fixture(scope="module")
def consent(published):
    return {p["participant_id"]: p["shares_needs_with_employers"] for p in participant_rows(published.settings)}


@pytest.fixture(scope="module")
def needs(published):
    return {p["participant_id"]: p["adaptation_needs"] for p in participant_rows(published.settings)}


def _open_openings(published, n: int | None = None):
    rows = [o for o in opening_rows(published.settings) if o["status"] == "open"]
    return rows[:n] if n else rows


@pytest.mark.parametrize("fresh", [False, True], ids=["stored", "live"])
def test_liaison_reads_nothing_of_the_needs_of_participants_who_did_not_consent(pub_client, auth, published, consent, needs, fresh):
    checked = 0
    for o in _open_openings(published, 25):
        for lang in ("nb", "en"):
            params = {"limit": 50, "lang": lang, "fresh": fresh}
            url = f"/v1/openings/{o['opening_id']}/candidates"
            body = pub_client.get(url, params=params, headers=auth("liaison", o["office_id"])).json()
            admin = pub_client.get(url, params=params, headers=auth("admin")).json()
            assert body == admin  # employer-facing for every role
            for c in body["candidates"]:
                if consent[c["participant_id"]]:
                    continue
                assert leaks(json.dumps(c, ensure_ascii=False)) == []
                assert "adaptation" not in {r["feature"] for r in c["reasons"]}
                checked += bool(needs[c["participant_id"]])
    assert checked, "no non-consenting participant with needs on any list: the test would prove nothing"


def test_consenting_participants_needs_may_be_shown(pub_client, auth, published, consent, needs):
    """With consent the employer side weighs the needs: the adaptation reason can name them."""
    shown = 0
    for o in _open_openings(published):
        body = pub_client.get(
            f"/v1/openings/{o['opening_id']}/candidates", params={"limit": 50}, headers=auth("liaison", o["office_id"])
        ).json()
        for c in body["candidates"]:
            if consent[c["participant_id"]] and needs[c["participant_id"]]:
                shown += any(r["feature"] == "adaptation" and leaks(r["text"]) for r in c["reasons"])
        if shown >= 3:
            break
    assert shown, "no consenting participant's needs were weighed on any list"


# ------------------------------------------------------------------ when stored lists may no longer be shown


@pytest.fixture()
def own_published(published, tmp_path):
    """A private copy of the published database, to change consent or run records in."""
    from tests.conftest import _copy_db, settings_for

    path = tmp_path / "own.db"
    _copy_db(Path(published.settings.database_url.removeprefix("sqlite:///")), path)
    return settings_for(path, published.settings.model_dir)


def _stored_or_live(settings, auth, opening_ids) -> set:
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(settings))
    return {client.get(f"/v1/openings/{oid}/candidates", headers=auth("admin")).json()["run_id"] for oid in opening_ids}


def test_a_withdrawn_consent_retires_every_stored_opening_list(own_published, auth, consent):
    """Lists ranked while someone's needs were weighed are not shown once they withdraw
    consent — all of the run's opening lists, not just theirs, so which lists changed says
    nothing about anyone; they are computed live (without those needs) instead."""
    from sqlalchemy import update

    from tests.conftest import db_engine

    oids = [o["opening_id"] for o in opening_rows(own_published) if o["status"] == "open"][:15]
    assert None not in _stored_or_live(own_published, auth, oids)
    who = next(pid for pid, c in sorted(consent.items()) if c)
    with db_engine(own_published).begin() as conn:
        conn.execute(update(t.participants).where(t.participants.c.participant_id == who).values(shares_needs_with_employers=False))
    assert _stored_or_live(own_published, auth, oids) == {None}


@pytest.mark.parametrize("change", ["missing", "other areas"])
def test_lists_from_another_partition_or_before_the_employer_view_are_not_shown(own_published, auth, change):
    from sqlalchemy import delete, update

    from tests.conftest import db_engine

    oids = [o["opening_id"] for o in opening_rows(own_published) if o["status"] == "open"][:10]
    views = t.run_employer_views
    with db_engine(own_published).begin() as conn:
        if change == "missing":
            conn.execute(delete(views))
        else:
            conn.execute(update(views).values(areas="0" * 16))
    assert _stored_or_live(own_published, auth, oids) == {None}


def test_a_withdrawal_is_respected_even_while_the_snapshot_is_being_rebuilt(own_published, auth, consent, needs):
    """Live answers normally come from the previous snapshot while a rebuild runs (here: not
    waited for at all); an employer-facing one waits instead when someone withdrew consent."""
    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from api.app import create_app
    from tests.conftest import db_engine

    settings = own_published.model_copy(update={"snapshot_wait": 0.0})
    client = TestClient(create_app(settings))
    shown = None
    for o in opening_rows(settings):
        if o["status"] != "open":
            continue
        body = client.get(f"/v1/openings/{o['opening_id']}/candidates", params={"fresh": True, "limit": 50}, headers=auth("admin")).json()
        for c in body["candidates"]:
            if consent[c["participant_id"]] and any(r["feature"] == "adaptation" and leaks(r["text"]) for r in c["reasons"]):
                shown = (o["opening_id"], c["participant_id"])
                break
        if shown:
            break
    assert shown, "no consenting participant's needs shown on any live list"
    oid, pid = shown
    with db_engine(settings).begin() as conn:
        conn.execute(update(t.participants).where(t.participants.c.participant_id == pid).values(shares_needs_with_employers=False))
    body = client.get(
        f"/v1/openings/{oid}/candidates",
        params={"fresh": True, "limit": 50},
        headers=auth("liaison", next(o["office_id"] for o in opening_rows(settings) if o["opening_id"] == oid)),
    ).json()
    mine = [c for c in body["candidates"] if c["participant_id"] == pid]
    assert mine and leaks(json.dumps(mine, ensure_ascii=False)) == []
    assert "adaptation" not in {r["feature"] for r in mine[0]["reasons"]}
