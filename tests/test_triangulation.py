"""Can a liaison officer pin down a candidate's home from what they may read? (issue 9)

The attack of the issue, run against the real API on the fixture world: a liaison of each
office reads every candidate list of every opening of their office (stored and live, up to
1,000 long, both languages), whose postal codes are public, and intersects what the reasons
say about distance. Two attackers:

- *bands*: the postal codes whose own point lies in the stated band from every opening the
  candidate is listed for (the issue's triangulation, with bands instead of figures);
- *informed*: one who also knows how the employer view is computed and uses being listed as
  "within the participant's limit" — given their real limit, which no liaison is told: the
  postal codes whose point lies in every band and whose home area's centre is within that
  limit of every opening the candidate is listed for.

Goal: no candidate's home narrowed to fewer than 10 postal codes by either.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

import numpy as np
import pytest

from matching.taxonomy import areas, places
from matching.taxonomy.places import haversine_km
from tests.conftest import offices_of, opening_rows, participant_rows

BAND = re.compile(r"(under (\d+)|(\d+)–(\d+)|over (\d+)) km")
GOAL = 10


def _edges(m: re.Match) -> tuple[float, float]:
    if m.group(2):
        return 0.0, float(m.group(2))
    if m.group(5):
        return float(m.group(5)), np.inf
    return float(m.group(3)), float(m.group(4))


def _band(lo_hi, km: np.ndarray) -> np.ndarray:
    lo, hi = lo_hi
    return (km >= lo) & (km <= hi)


@pytest.fixture(scope="module")
def observations(pub_client, auth, published):
    """participant → ({(opening postal code, band)}, {postal codes of openings listing them}):
    everything about distance that liaison staff could read."""
    bands: dict[str, set] = defaultdict(set)
    listed: dict[str, set] = defaultdict(set)
    for office in offices_of(published.settings):
        headers = auth("liaison", office)
        for o in opening_rows(published.settings):
            if o["office_id"] != office or o["status"] != "open":
                continue
            for fresh in (False, True):
                for lang in ("nb", "en"):
                    res = pub_client.get(
                        f"/v1/openings/{o['opening_id']}/candidates", params={"limit": 1000, "lang": lang, "fresh": fresh}, headers=headers
                    )
                    assert res.status_code == 200, res.text
                    for c in res.json()["candidates"]:
                        listed[c["participant_id"]].add(o["postal_code"])
                        for r in c["reasons"]:
                            assert not re.search(r"\d+[,.]?\d* km (fra|from)", r["text"]), r["text"]
                            m = BAND.search(r["text"]) if r["feature"] == "distance" else None
                            if m:
                                bands[c["participant_id"]].add((o["postal_code"], _edges(m)))
    assert listed
    return {pid: (bands[pid], listed[pid]) for pid in listed}


def test_no_candidate_home_is_narrowed_below_ten_postal_codes(observations, published):
    table = areas.table()
    code_lat, code_lon = table["lat"].to_numpy(), table["lon"].to_numpy()
    centre_lat, centre_lon = table["area_lat"].to_numpy(), table["area_lon"].to_numpy()
    residential = table["residential"].to_numpy()
    codes = table.index.to_numpy()
    people = {p["participant_id"]: p for p in participant_rows(published.settings)}
    fewest = {"bands": np.inf, "informed": np.inf}
    with_bands = 0
    for pid, (bands, listed) in observations.items():
        by_band = residential.copy()
        for postal, band in bands:
            place = places.lookup(postal)
            by_band &= _band(band, haversine_km(code_lat, code_lon, place.lat, place.lon))
        informed = by_band.copy()
        limit = float(people[pid]["max_commute_km"])
        for postal in listed:
            place = places.lookup(postal)
            informed &= haversine_km(centre_lat, centre_lon, place.lat, place.lon) <= limit * 1.001
        home = people[pid]["postal_code"]
        assert by_band[codes == home].all() and informed[codes == home].all()  # every band is true of the home
        with_bands += bool(bands)
        fewest["bands"] = min(fewest["bands"], int(by_band.sum()))
        fewest["informed"] = min(fewest["informed"], int(informed.sum()))
    sys.stdout.write(
        f"\n{len(observations)} candidates ({with_bands} with a distance band); fewest residential postal codes left: {fewest}\n"
    )
    assert with_bands >= 20, "too few distance reasons to attack: the test would prove nothing"
    assert fewest["bands"] >= GOAL
    assert fewest["informed"] >= GOAL
