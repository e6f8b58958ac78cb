"""Health data in the liaison view: no adaptation need (code or label, nb or en) anywhere in
an opening's candidate list unless that participant consented; admins see everything."""
from __future__ import annotations

import json
import re

import pytest

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
def sensitive_lists(pub_client, auth, published, consent):
    """Openings whose admin view names a need of a participant who did not consent (up to 4)."""
    found = []
    for o in opening_rows(published.settings):
        if o["status"] != "open":
            continue
        for lang in ("nb", "en"):
            body = pub_client.get(f"/v1/openings/{o['opening_id']}/candidates", params={"limit": 50, "lang": lang},
                                  headers=auth("admin")).json()
            if any(leaks(json.dumps(c, ensure_ascii=False)) for c in body["candidates"]
                   if not consent[c["participant_id"]]):
                found.append((o, lang, body))
                break
        if len(found) == 4:
            break
    assert found, "no candidate list in the fixture world names a need of a non-consenting participant"
    return found


def test_liaison_sees_no_need_of_participants_who_did_not_consent(pub_client, auth, sensitive_lists, consent):
    for opening, lang, admin_body in sensitive_lists:
        res = pub_client.get(f"/v1/openings/{opening['opening_id']}/candidates", params={"limit": 50, "lang": lang},
                             headers=auth("liaison", opening["office_id"]))
        assert res.status_code == 200
        body = res.json()
        assert [c["participant_id"] for c in body["candidates"]] == [
            c["participant_id"] for c in admin_body["candidates"]]
        # the whole response, less the entries of participants who consented
        kept = [c for c in body["candidates"] if not consent[c["participant_id"]]]
        without_consent = {**body, "candidates": kept}
        assert leaks(json.dumps(without_consent, ensure_ascii=False)) == []
        for mine, full in zip(body["candidates"], admin_body["candidates"]):
            # same ranking, same contributions; only health wording differs, and only without consent
            assert mine["score"] == full["score"]
            # The liaison view may show the (redacted) adaptation reason where the adviser view
            # leaves it out for "no needs registered": otherwise its absence would reveal that.
            theirs = {(r["feature"], r["contribution"]) for r in full["reasons"]}
            assert {(r["feature"], r["contribution"]) for r in mine["reasons"] if r["feature"] != "adaptation"} <= theirs
            if consent[mine["participant_id"]]:
                assert mine["reasons"] == full["reasons"]


def test_live_candidates_are_redacted_too(pub_client, auth, sensitive_lists, consent):
    opening, lang, _ = sensitive_lists[0]
    body = pub_client.get(f"/v1/openings/{opening['opening_id']}/candidates",
                          params={"limit": 50, "lang": lang, "fresh": True},
                          headers=auth("liaison", opening["office_id"])).json()
    assert body["run_id"] is None and body["candidates"]
    kept = [c for c in body["candidates"] if not consent[c["participant_id"]]]
    assert leaks(json.dumps(kept, ensure_ascii=False)) == []


def test_consenting_participants_needs_may_be_shown(pub_client, auth, published, consent):
    """With consent the liaison sees exactly what an admin sees, needs included."""
    seen = 0
    for o in opening_rows(published.settings):
        if o["status"] != "open":
            continue
        url = f"/v1/openings/{o['opening_id']}/candidates"
        admin = pub_client.get(url, params={"limit": 50}, headers=auth("admin")).json()["candidates"]
        headers = auth("liaison", o["office_id"])
        liaison = pub_client.get(url, params={"limit": 50}, headers=headers).json()["candidates"]
        for a, mine in zip(admin, liaison):
            if consent[a["participant_id"]]:
                assert mine == a
                seen += 1
        if seen >= 5:
            break
    assert seen, "no consenting participant on any candidate list"
