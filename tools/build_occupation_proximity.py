"""Rebuild matching/reference/occupation_proximity.csv: evidence that two STYRK-08 unit groups
are related beyond their code prefix.

    python tools/build_occupation_proximity.py [--shared ../shared/data] [--out FILE]

Two kinds of evidence, per ordered pair (from = a desired occupation, to = an opening's):

* **core skills** – the opening occupation's core skills are its ``N_CORE`` (12) essential ESCO
  skills linked to the most ESCO occupations in the group (ties by id); ``shared_core`` counts
  how many of them are essential *or* optional skills of any ESCO occupation in the ``from``
  group. Directional on purpose: a nurse has most of a care worker's core skills, a care worker
  few of a nurse's.
* **substitution** – Arbetsförmedlingen's expert substitutability between Swedish occupation
  names (25 % or 75 %: "who can do whose job"), mapped name → SSYK-2012 → ISCO-08 → STYRK-08.
  Taken symmetric (the strongest link either way) because an adviser asks "is this a
  realistic move", not who replaces whom. SSYK groups that map to more than
  ``MAX_ISCO_PER_SSYK`` ISCO groups are skipped: their links would smear over unrelated codes.

Only pairs with some evidence (``shared_core >= 1`` or a substitution link) are written; the
STYRK hierarchy (shared leading digits) is not stored, it is read off the codes at import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from matching.csvsafe import safe_frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_reference_skills import NORWAY_ONLY  # noqa: E402  (sibling script, not a package)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "matching" / "reference"
N_CORE = 12
MAX_ISCO_PER_SSYK = 3
#: ISCO-08 unit groups STYRK-08 does not have → the STYRK-08 group that holds them; the same
#: crosswalk as esco_occupation_labels_en.csv (see matching/reference/SOURCES.md).
ISCO_TO_STYRK = {
    "2230": "3230",
    "2240": "3259",
    "3111": "3119",
    "3221": "5321",
    "3222": "5321",
    "3252": "3256",
    "3253": "3259",
    "3255": "3259",
    "3314": "4132",
    "3344": "3256",
    "3435": "3439",
    "4120": "4110",
    "4414": "4110",
    "4419": "4110",
    "5162": "5169",
    "5412": "3355",
    "6223": "6222",
    "7111": "7115",
    "7521": "8172",
    "7523": "8172",
    "7533": "7531",
    "8321": "8322",
    "9121": "8157",
    "9332": "9331",
    "9411": "5246",
    "9520": "5211",
    "9624": "9629",
}


def _styrk_of_isco(isco: str, units: set[str]) -> list[str]:
    codes = [isco] if isco in units else ([ISCO_TO_STYRK[isco]] if isco in ISCO_TO_STYRK else [])
    # STYRK-08 splits ISCO 2221 into specialist (2221) and general (2223) nurses, etc.
    codes += [n for n, i in NORWAY_ONLY.items() if i == isco]
    return codes


def skill_evidence(esco: Path, units: set[str]) -> pd.DataFrame:
    occ = pd.read_csv(esco / "occupations_en.csv", usecols=["conceptUri", "iscoGroup"], dtype=str)
    occ["occupation_id"] = occ["conceptUri"].str.rsplit("/", n=1).str[-1]
    rel = pd.read_csv(esco / "occupationSkillRelations_compact.csv", dtype=str)
    rel = rel.merge(occ[["occupation_id", "iscoGroup"]], on="occupation_id")
    borrowed = [rel[rel["iscoGroup"] == isco].assign(iscoGroup=code) for code, isco in NORWAY_ONLY.items()]
    rel = pd.concat([rel, *borrowed], ignore_index=True)
    rel = rel[rel["iscoGroup"].isin(units)]
    ess = rel[rel["relationType"] == "essential"]
    counts = (
        ess.groupby(["iscoGroup", "skill_id"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["iscoGroup", "n", "skill_id"], ascending=[True, False, True])
    )
    core = counts.groupby("iscoGroup").head(N_CORE).rename(columns={"iscoGroup": "to_code"})
    n_core = core.groupby("to_code").size().rename("n_core")
    has = rel[["iscoGroup", "skill_id"]].drop_duplicates().rename(columns={"iscoGroup": "from_code"})
    shared = (
        core[["to_code", "skill_id"]].merge(has, on="skill_id").groupby(["from_code", "to_code"]).size().rename("shared_core").reset_index()
    )
    shared = shared[shared["from_code"] != shared["to_code"]]
    return shared.merge(n_core, left_on="to_code", right_index=True)


def substitution_evidence(jobtech: Path, units: set[str]) -> pd.DataFrame:
    subst = pd.read_csv(jobtech / "occupation_substitutability_sv.csv", dtype=str)
    names = pd.read_csv(jobtech / "occupation_names_sv_with_ssyk_isco.csv", dtype=str)
    ssyk_isco = pd.read_csv(jobtech / "ssyk2012_l4_to_isco08_l4.csv", dtype=str)
    isco_sets = ssyk_isco.groupby("ssyk_code_2012")["isco_code_08"].apply(lambda s: sorted(set(s)))
    isco_sets = isco_sets[isco_sets.map(len) <= MAX_ISCO_PER_SSYK]
    styrk_sets = isco_sets.map(lambda isco: sorted({c for i in isco for c in _styrk_of_isco(i, units)}))
    name_codes = names.set_index("occupation_name_id")["ssyk_code_2012"].map(styrk_sets).dropna()
    rows = []
    for a, b, pct in zip(subst["occupation_name_id"], subst["other_occupation_name_id"], subst["substitutability_percentage"].astype(int)):
        for ca in name_codes.get(a, []):
            for cb in name_codes.get(b, []):
                if ca != cb:
                    rows += [(ca, cb, pct), (cb, ca, pct)]  # symmetric: strongest link either way
    links = pd.DataFrame(rows, columns=["from_code", "to_code", "substitute_pct"])
    return links.groupby(["from_code", "to_code"], as_index=False)["substitute_pct"].max()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT / "occupation_proximity.csv")
    args = ap.parse_args()
    styrk = pd.read_csv(OUT / "styrk08.csv", dtype=str)
    units = set(styrk.loc[styrk["level"] == "4", "code"])
    skills = skill_evidence(args.shared / "esco_v1.1.1_en", units)
    subst = substitution_evidence(args.shared / "jobtech_taxonomy_se", units)
    table = skills.merge(subst, on=["from_code", "to_code"], how="outer")
    table["shared_core"] = table["shared_core"].fillna(0).astype(int)
    table["n_core"] = table["to_code"].map(skills.groupby("to_code")["n_core"].first()).fillna(0).astype(int)
    table["substitute_pct"] = table["substitute_pct"].fillna(0).astype(int)
    table = table[(table["shared_core"] > 0) | (table["substitute_pct"] > 0)]
    table = table.sort_values(["from_code", "to_code"])
    cols = ["from_code", "to_code", "shared_core", "n_core", "substitute_pct"]
    safe_frame(table[cols]).to_csv(args.out, index=False)
    print(
        f"{len(table)} code pairs with evidence: {int((table['shared_core'] > 0).sum())} share core skills, "
        f"{int((table['substitute_pct'] > 0).sum())} substitution links"
    )


if __name__ == "__main__":
    main()
