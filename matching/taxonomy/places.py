"""Postal code → municipality and coordinates.

Coordinates are one point per postal code (Erik Bolstad, 2017 vintage, joined onto the 2025
codes), good enough for commute distances; 320 newer postal codes have no point and are
treated as unknown for matching purposes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from matching.taxonomy._files import reference_path

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    postal_code: str
    place_name: str
    municipality_code: str
    municipality_name: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def postal_table() -> pd.DataFrame:
    """All postal codes that have coordinates, indexed by the 4-digit code."""
    df = pd.read_csv(reference_path("postal_codes.csv"), dtype=str, encoding="utf-8")
    df = df.dropna(subset=["lat", "lon"]).copy()
    df["lat"] = df["lat"].astype(float)
    df["lon"] = df["lon"].astype(float)
    return df.set_index("postnummer")


@lru_cache(maxsize=8192)
def lookup(postal_code: str) -> Place | None:
    """The place for a postal code, or None if unknown or without coordinates.

    Cached: a bulk load looks up the same few thousand codes hundreds of thousands of times."""
    table = postal_table()
    if postal_code not in table.index:
        return None
    row = table.loc[postal_code]
    return Place(
        postal_code=postal_code,
        place_name=str(row["poststed"]).title(),
        municipality_code=str(row["kommunenummer_2025"]),
        municipality_name=str(row["kommune_2025"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
    )


def is_known(postal_code: str) -> bool:
    return postal_code in postal_table().index


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance, vectorised over numpy arrays (broadcasting allowed)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
