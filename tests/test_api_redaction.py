"""Health data in the employer-facing view: no adaptation need (code or label, nb or en)
anywhere in an opening's candidate list unless that participant consented, and for those
who did not, the adaptation criterion is not part of the list at all (no reason, no
contribution). The list is the same for every role that may read it."""
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
def needs(published):
    return {p["participant_id"]: p["adaptation_needs"] for p in participant_rows(published.settings)}


def _open_openings(published, n: int | None = None):
    rows = [o for o in opening_rows(published.settings) if o["status"] == "open"]
    return rows[:n] if n else rows


@pytest.mark.parametrize("fresh", [False, True], ids=["stored", "live"])
def test_liaison_reads_nothing_of_the_needs_of_participants_who_did_not_consent(pub_client, auth, published, consent,
                                                                               needs, fresh):
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
        body = pub_client.get(f"/v1/openings/{o['opening_id']}/candidates", params={"limit": 50},
                              headers=auth("liaison", o["office_id"])).json()
        for c in body["candidates"]:
            if consent[c["participant_id"]] and needs[c["participant_id"]]:
                shown += any(r["feature"] == "adaptation" and leaks(r["text"]) for r in c["reasons"])
        if shown >= 3:
            break
    assert shown, "no consenting participant's needs were weighed on any list"
