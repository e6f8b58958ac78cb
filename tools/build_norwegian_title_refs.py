"""Copy the Norwegian title sources the normaliser needs from ../shared/data into matching/reference.

    .venv/bin/python tools/build_norwegian_title_refs.py [--shared ../shared/data]

Writes (see ``matching/reference/SOURCES.md``):

- ``esco_no_labels_styrk08.csv``: Norwegian ESCO occupation labels (preferred and alternative)
  with the STYRK-08 code of the official ESCO → STYRK-08 mapping, ESCO's own ISCO-08 code and
  the flag for occupations Norway files under another code than ESCO's ISCO code.
- ``utdanning_no_titles.csv``: utdanning.no occupation titles with their STYRK-08 code(s).

Only the columns the normaliser reads are kept; rows are sorted so the output is byte-stable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "matching" / "reference"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args(argv)

    esco = pd.read_csv(args.shared / "esco_no_styrk08" / "esco_no_labels_styrk08.csv", dtype=str, keep_default_na=False)
    esco = esco[esco["label_type"].isin(["preferred", "alternative"])]
    esco = esco[esco["styrk08"].str.fullmatch(r"\d{4}")]
    out = pd.DataFrame(
        {
            "label": esco["label_no"].str.strip(),
            "label_type": esco["label_type"],
            "code": esco["styrk08"],
            "isco08": esco["esco_isco08"],
            "norway_differs": esco["styrk_differs_from_esco_isco"].replace("", "0"),
            "english_fallback": esco["possibly_english_fallback"].replace("", "0"),
            "esco_id": esco["esco_uri"].str.rsplit("/", n=1).str[-1].str[:8],
        }
    )
    out = out[out["label"] != ""].drop_duplicates()
    out = out.sort_values(["code", "esco_id", "label_type", "label"], kind="stable")
    out.to_csv(REF / "esco_no_labels_styrk08.csv", index=False, lineterminator="\n")
    print(f"esco_no_labels_styrk08.csv: {len(out):,} rows, {out['code'].nunique()} codes")

    ut = pd.read_csv(args.shared / "utdanning_no_yrker" / "utdanning_yrker_styrk08.csv", dtype=str, keep_default_na=False)
    ut = ut[ut["styrk08"] != ""]
    ut = pd.DataFrame({"title": ut["title"].str.strip(), "codes": ut["styrk08"], "utdanning_id": ut["utdanning_id"]}).sort_values(
        ["title", "utdanning_id"]
    )
    ut.to_csv(REF / "utdanning_no_titles.csv", index=False, lineterminator="\n")
    print(f"utdanning_no_titles.csv: {len(ut):,} rows")


if __name__ == "__main__":
    sys.exit(main())
