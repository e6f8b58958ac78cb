"""Rebuild matching/reference/skills.csv and occupation_skills.csv from ESCO v1.1.1 (English).

    python tools/build_reference_skills.py [--shared ../shared/data]

Per STYRK-08 unit group (= ISCO-08 4-digit for all but four codes), the skills most often
linked to the ESCO occupations in that group: up to 25 essential and 15 optional; the
Norway-only codes 2223, 2224 and 3439 borrow from ISCO 2221, 2635 and 3435. skills.csv lists
every ESCO skill (preferred label), so free text finds skills no occupation links. Skill ids
are `esco:` + the first 8 hex digits of the ESCO concept UUID (checked unique).
skill_alt_labels_en.csv holds ESCO's English alternative labels of the skills some occupation
links (the ones openings ask for), so "forklift driving" finds "operate forklift".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from matching.csvsafe import safe_frame

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "matching" / "reference"
#: Norway-only STYRK-08 code → ISCO-08 group whose ESCO skills it takes: general nurses (ESCO
#: files them under 2221 with specialist nurses), vernepleiere (social educators, as ESCO's
#: social pedagogue), other aesthetic occupations.
NORWAY_ONLY = {"2223": "2221", "2224": "2635", "3439": "3435"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    esco = args.shared / "esco_v1.1.1_en"
    occ = pd.read_csv(esco / "occupations_en.csv", usecols=["conceptUri", "iscoGroup"], dtype=str)
    occ["occupation_id"] = occ["conceptUri"].str.rsplit("/", n=1).str[-1]
    skills = pd.read_csv(esco / "skills_en.csv", usecols=["conceptUri", "preferredLabel", "skillType", "altLabels"], dtype=str)
    skills["uuid"] = skills["conceptUri"].str.rsplit("/", n=1).str[-1]
    skills["skill_id"] = "esco:" + skills["uuid"].str[:8]
    assert skills["skill_id"].is_unique, "8-hex-digit skill ids collide"
    rel = pd.read_csv(esco / "occupationSkillRelations_compact.csv", dtype=str)
    styrk = pd.read_csv(OUT / "styrk08.csv", dtype=str)
    units = set(styrk.loc[styrk["level"] == "4", "code"])

    rel = rel.merge(occ[["occupation_id", "iscoGroup"]], on="occupation_id")
    # STYRK-08's Norway-only unit groups borrow the skills of their nearest ISCO group.
    borrowed = [rel[rel["iscoGroup"] == isco].assign(iscoGroup=code) for code, isco in NORWAY_ONLY.items()]
    rel = pd.concat([rel, *borrowed], ignore_index=True)
    rel = rel[rel["iscoGroup"].isin(units)]
    rel = rel.merge(skills[["uuid", "skill_id"]], left_on="skill_id", right_on="uuid", suffixes=("_uuid", ""))
    counts = (
        rel.groupby(["iscoGroup", "relationType", "skill_id"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["iscoGroup", "relationType", "n", "skill_id"], ascending=[True, True, False, True])
    )
    keep = pd.concat(
        [
            counts[counts["relationType"] == "essential"].groupby("iscoGroup").head(25),
            counts[counts["relationType"] == "optional"].groupby("iscoGroup").head(15),
        ]
    )
    table = keep.rename(columns={"iscoGroup": "styrk08", "relationType": "relation"})[["styrk08", "skill_id", "relation", "n"]].sort_values(
        ["styrk08", "relation", "n", "skill_id"], ascending=[True, True, False, True]
    )
    safe_frame(table[["styrk08", "skill_id", "relation"]]).to_csv(OUT / "occupation_skills.csv", index=False)
    # Every ESCO skill, not only those linked above, so free text an adviser types
    # ("Norwegian", "operate forklift") still finds its id.
    out = skills.rename(columns={"preferredLabel": "label_en", "skillType": "skill_type"})
    safe_frame(out[["skill_id", "label_en", "skill_type"]].sort_values("skill_id")).to_csv(OUT / "skills.csv", index=False)
    alt = (
        skills[skills["skill_id"].isin(set(table["skill_id"]))]
        .assign(label_en=skills["altLabels"].fillna("").str.split("\n"))
        .explode("label_en")
    )
    alt["label_en"] = alt["label_en"].str.strip()
    alt = alt[alt["label_en"] != ""].drop_duplicates(["skill_id", "label_en"])
    safe_frame(alt[["skill_id", "label_en"]].sort_values(["skill_id", "label_en"])).to_csv(OUT / "skill_alt_labels_en.csv", index=False)
    print(f"{len(alt)} alternative labels")
    print(f"{len(table)} occupation-skill rows over {table['styrk08'].nunique()} codes; {len(out)} skills")


if __name__ == "__main__":
    main()
