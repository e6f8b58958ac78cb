"""STYRK-08 occupation codes (SSB KLASS 7): the hierarchy used for occupation proximity.

Free-text titles are mapped onto these codes by :mod:`matching.taxonomy.titles`.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from matching.taxonomy._files import reference_path


@lru_cache(maxsize=1)
def styrk_table() -> pd.DataFrame:
    """Every STYRK-08 code (levels 1-4) with its bokmål name, indexed by code."""
    df = pd.read_csv(reference_path("styrk08.csv"), dtype=str, encoding="utf-8")
    return df.set_index("code")


@lru_cache(maxsize=1)
def unit_groups() -> dict[str, str]:
    """4-digit code → name: the codes a title can normalise to."""
    df = styrk_table()
    return df[df["level"] == "4"]["name"].to_dict()


def is_valid_code(code: str) -> bool:
    """True for a 4-digit STYRK-08 unit group; shorter (group) codes are not occupations."""
    return code in unit_groups()


def name(code: str) -> str:
    """Bokmål name of a code at any level; the code itself if unknown (display never fails)."""
    return _names().get(code, code)


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Code → bokmål name as a dict: reasons look names up per listed entry, and a pandas
    lookup cost more than the rest of a reason."""
    return {str(k): str(v) for k, v in styrk_table()["name"].items()}


@lru_cache(maxsize=1)
def _isco_en() -> dict[str, str]:
    df = pd.read_csv(reference_path("isco08_en.csv"), dtype=str, encoding="utf-8")
    return dict(zip(df["isco_code"], df["preferred_label_en"]))


def name_en(code: str) -> str:
    """English name: the ISCO-08 label of the same code (STYRK-08 = ISCO-08 for 403 of 407
    unit groups); the bokmål name for the Norway-only codes, which ISCO does not name."""
    return _isco_en().get(code) or name(code)


def label(code: str, lang: str = "nb") -> str:
    """The name to show in `lang` (:func:`name_en` in English, else :func:`name`)."""
    return name_en(code) if lang == "en" else name(code)


@lru_cache(maxsize=1)
def _isco_to_styrk() -> dict[str, list[str]]:
    """ISCO-08 unit groups STYRK-08 lacks → the STYRK-08 code(s) Norway files them under.

    From the official ESCO → STYRK-08 mapping (``esco_no_labels_styrk08.csv``: the code most
    of the group's ESCO occupations map to, then the others), else the project's crosswalk in
    ``esco_occupation_labels_en.csv`` ("5412" police officers → "3355").
    """
    out: dict[str, list[str]] = {}
    for name_, isco_col in (("esco_no_labels_styrk08.csv", "isco08"), ("esco_occupation_labels_en.csv", "isco08")):
        df = pd.read_csv(reference_path(name_), dtype=str, keep_default_na=False, usecols=[isco_col, "code"])
        df = df[
            (df[isco_col] != df["code"])
            & ~df[isco_col].isin(unit_groups())
            & df["code"].isin(unit_groups())
            & df[isco_col].str.fullmatch(r"\d{4}")
        ]
        for isco, codes in df.groupby(isco_col)["code"]:
            out.setdefault(str(isco), list(codes.value_counts().index))
    return out


def styrk_for_isco(code: str) -> list[str]:
    """STYRK-08 code(s) to use for an ISCO-08 unit group that is not a STYRK-08 code, most
    common first; empty when ``code`` is a STYRK-08 code or no mapping names it."""
    return [] if is_valid_code(code) else _isco_to_styrk().get(code, [])
