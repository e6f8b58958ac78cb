"""CSV cells that are safe to open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) is run as a
formula by Excel, LibreOffice and Google Sheets ("CSV injection"). Every CSV this project
writes passes its text cells through :func:`safe_cell` (OWASP: prefix such a cell with a single
quote, which spreadsheets show as text). Numbers written as numbers are not text and are left
alone, so a negative number stays a number.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` if it is text a spreadsheet would run as a formula; anything
    that is not a string (numbers, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame, *, numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of `df` whose text cells are neutralised. Number, boolean and datetime columns
    are left alone, and so are the columns named in `numeric`: numbers the caller has already
    formatted as strings (e.g. ``f"{v:g}"``)."""
    out = df.copy()
    types = pd.api.types
    for col in out.columns:
        s = out[col]
        if col in numeric or types.is_numeric_dtype(s) or types.is_bool_dtype(s) or types.is_datetime64_any_dtype(s):
            continue
        out[col] = [safe_cell(v) for v in s]
    return out
