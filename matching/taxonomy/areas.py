"""Home areas: groups of at least `MIN_CODES` residential postal codes, the finest location
an employer-facing view may depend on.

Liaison staff see candidates for openings whose addresses are public. Anything they read that
depends on a candidate's exact home (a distance, a distance level, being inside the commute
radius) can be intersected across openings to pin the home down. The employer-facing view
therefore places every participant at the centre of their *home area* instead of their home:
all homes in one area give that view the very same answers, so no inference — however many
openings are compared — narrows a home below its area.

Areas are built from the reference postal codes alone (deterministic, no participant data):
the residential codes (street addresses, not post-office boxes) are split in two, again and
again, along x or y wherever the two sides are most compact, until a side would fall below
`MIN_CODES`: groups of `MIN_CODES` … 2·`MIN_CODES` − 1 codes (a few km across in a city,
tens of km in sparse districts, where ten postal codes cover that much). Every other code (post boxes, company codes) joins the area of the
nearest residential code. Post-box codes sharing one point are not counted, so an area's
size is real places, not aliases of one; nor are street-address codes where nobody lived.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy import places

#: No area has fewer residential postal codes than this (issue 9: "fewer than 10 postal codes").
MIN_CODES = 10
#: Reference categories of codes people live at (bruksområde in the postal register).
RESIDENTIAL = frozenset({"Gate-/veg-adresse", "Gateadresser og postboksar", "Fleire bruksområde"})


def _cummin_max(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.minimum.accumulate(v), np.maximum.accumulate(v)


def _split_cost(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For every cut k (first k points | the rest, in this order), the points-weighted
    bounding-box diagonal of the two sides: small when both sides are compact."""
    n = len(x)
    lo_x, hi_x = _cummin_max(x)
    lo_y, hi_y = _cummin_max(y)
    rlo_x, rhi_x = (a[::-1] for a in _cummin_max(x[::-1]))
    rlo_y, rhi_y = (a[::-1] for a in _cummin_max(y[::-1]))
    k = np.arange(1, n)  # left = [0, k), right = [k, n)
    left = np.hypot(hi_x[k - 1] - lo_x[k - 1], hi_y[k - 1] - lo_y[k - 1])
    right = np.hypot(rhi_x[k] - rlo_x[k], rhi_y[k] - rlo_y[k])
    return np.r_[np.inf, left * k + right * (n - k)]


def _bisect(codes: np.ndarray, x: np.ndarray, y: np.ndarray, out: list[np.ndarray]) -> None:
    """Split the points in two along x or y, where the two sides are most compact, until a
    side would fall below MIN_CODES (a cut through a gap — a fjord, a stretch of forest —
    beats a cut through a town)."""
    stack = [np.arange(len(codes))]
    while stack:
        rows = stack.pop()
        n = len(rows)
        if n < 2 * MIN_CODES:
            out.append(rows)
            continue
        best: tuple[float, np.ndarray, int] | None = None
        for axis in (x, y):
            order = rows[np.lexsort((codes[rows], axis[rows]))]  # ties by code: deterministic
            cost = _split_cost(x[order], y[order])
            cost[:MIN_CODES] = np.inf
            cost[n - MIN_CODES + 1 :] = np.inf
            k = int(np.argmin(cost))
            if best is None or cost[k] < best[0]:
                best = (cost[k], order, k)
        assert best is not None  # n >= 2 * MIN_CODES leaves at least one finite cut
        _, order, k = best
        stack.extend((order[k:], order[:k]))


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """One row per postal code with coordinates: `area` (int id), `residential`, and the area's
    centre `area_lat`, `area_lon` (the mean of its residential codes' points)."""
    pt = places.postal_table()
    codes = pt.index.to_numpy(dtype=str)
    lat, lon = pt["lat"].to_numpy(float), pt["lon"].to_numpy(float)
    residential = (pt["bruksomrade_2017"].isin(RESIDENTIAL).to_numpy() if "bruksomrade_2017" in pt else np.ones(len(pt), bool)).copy()
    if "folketal_2017" in pt:  # a street-address code where nobody lived (2017) hides no one
        residential &= pd.to_numeric(pt["folketal_2017"], errors="coerce").fillna(1).to_numpy() > 0
    res = np.flatnonzero(residential)
    # An equirectangular projection is plenty for deciding which side of a group is wider.
    x = np.radians(lon[res]) * np.cos(np.radians(lat[res])) * places.EARTH_RADIUS_KM
    y = np.radians(lat[res]) * places.EARTH_RADIUS_KM
    groups: list[np.ndarray] = []
    _bisect(codes[res], x, y, groups)
    # Number areas in the order of their smallest postal code (stable across rebuilds).
    groups.sort(key=lambda g: min(codes[res][g]))
    area = np.full(len(codes), -1, dtype=np.int64)
    for a, g in enumerate(groups):
        area[res[g]] = a
    other = np.flatnonzero(~residential)
    if len(other):
        d = places.haversine_km(lat[other][:, None], lon[other][:, None], lat[res][None, :], lon[res][None, :])
        area[other] = area[res[np.argmin(d, axis=1)]]
    frame = pd.DataFrame({"area": area, "residential": residential, "lat": lat, "lon": lon}, index=pt.index)
    centre = frame[frame["residential"]].groupby("area")[["lat", "lon"]].mean()
    frame["area_lat"] = centre["lat"].reindex(frame["area"]).to_numpy()
    frame["area_lon"] = centre["lon"].reindex(frame["area"]).to_numpy()
    # Radius: the farthest point of any code in the area (post boxes included) from its centre,
    # so "centre ± radius" holds every home in the area.
    spread = places.haversine_km(frame["lat"], frame["lon"], frame["area_lat"], frame["area_lon"])
    frame["area_radius_km"] = pd.Series(spread, index=frame.index).groupby(frame["area"]).transform("max").to_numpy()
    return frame


def locate(postal_codes, lat, lon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, radius km) of the home area of each postal code. A code the reference no
    longer knows (discontinued since the row was stored) joins the area of the residential
    code nearest to its stored point: it never stands alone (fail closed)."""
    t = table()
    codes = pd.Index(np.asarray(postal_codes, dtype=str))
    pos = t.index.get_indexer(codes)
    unknown = np.flatnonzero(pos < 0)
    if len(unknown):
        res = np.flatnonzero(t["residential"].to_numpy())
        lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        d = places.haversine_km(
            lat[unknown][:, None], lon[unknown][:, None], t["lat"].to_numpy()[res][None, :], t["lon"].to_numpy()[res][None, :]
        )
        pos = pos.copy()
        pos[unknown] = res[np.argmin(d, axis=1)]
    return tuple(t[c].to_numpy()[pos] for c in ("area_lat", "area_lon", "area_radius_km"))


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Identifies the partition: a run stores it, and its employer-facing lists are served
    only under the same one (lists from two partitions could be intersected)."""
    t = table()
    text = f"{MIN_CODES}\n" + "\n".join(f"{c} {a}" for c, a in zip(t.index, t["area"]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
