"""Print real match explanations from a loaded database: the README's "Example reasons" block,
verbatim (headline reasons as the API gives them, in bokmål then English).

Finds its cases in the data rather than naming ids, so it keeps working when the fixtures are
regenerated: (1) a participant who lists no skills, with an opening where the engine infers
"likely has" skills; (2) someone who wants to drive a forklift truck (8344) and an open
warehouse opening (4321), where the occupation reason quotes the proximity evidence.

    MATCHING_DATABASE_URL=sqlite:////tmp/fx.db matching load data/fixtures
    MATCHING_DATABASE_URL=sqlite:////tmp/fx.db python tools/example_reasons.py
"""

from __future__ import annotations

import textwrap

import numpy as np

from matching import runtime
from matching.explain import feature_rows, reasons

WIDTH = 100


def _best(engine, p: int, openings: np.ndarray, want=None):
    """The opening (among `openings`) the engine scores highest for participant `p` whose
    explanation satisfies `want`; None if none does."""
    found = []
    for o in openings:
        out = engine.explain_pair(p, int(o))
        if out["eligible"] and (want is None or want(out["explanation"])):
            found.append((out["score"], int(o), out))
    return max(found, key=lambda x: x[0]) if found else None


def _wrapped(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False)


def _show(engine, out, also: tuple[str, ...] = ()) -> None:
    """One case as the README shows it: who and what, the headline reasons as the API gives
    them (nb, then en) and the full explanation rows of `also`."""
    w = engine.world
    p = w.participants.frame.iloc[w.participants.index[out["participant_id"]]]
    o = w.openings.frame.iloc[w.openings.index[out["opening_id"]]]
    titles = ", ".join(f'"{x}"' for x in p["desired_titles"])
    n_skills = len(p["skills"] or [])
    skills = "lists no skills" if n_skills == 0 else f"lists {n_skills} skills"
    print(_wrapped(f"{out['participant_id']} (wants {titles}; {skills})", ""))
    print(_wrapped(f"→ {out['opening_id']} {o['title']} ({o['styrk08']}), score {out['score']:.3f}"))
    for lang in ("nb", "en"):
        head = reasons(out["explanation"], lang)
        for r in head:
            print(_wrapped(f"{r['effect']} {r['text']}"))
        for row in feature_rows(out["explanation"], lang):
            if row["feature"] in also and row["feature"] not in {r["feature"] for r in head}:
                print(_wrapped(f"[only in the full explanation] {row['effect']} {row['text']}"))


def main() -> None:
    engine = runtime.match_engine()
    w = engine.world
    parts = w.participants
    open_idx = np.flatnonzero(w.openings.is_open)
    codes = w.openings.code

    def likely(expl):
        f = expl.features.get("likely_skills")
        return f is not None and f.values["covered"] > 0 and bool(str(f.values.get("likely", "")))

    no_skills = [i for i in range(len(parts)) if parts.listed_skills[i] == 0 and parts.inferred_from[i] >= 0]
    for p in no_skills:
        hit = _best(engine, p, open_idx[:200], likely)
        if hit:
            _show(engine, hit[2], ("likely_skills",))
            break

    wanted = parts.desired_codes
    trucks = [i for i in range(len(parts)) if 8344 in wanted[i] and 4321 not in wanted[i]]
    warehouse = open_idx[codes[open_idx] == 4321]
    for p in trucks:
        hit = _best(engine, p, warehouse)
        if hit:
            _show(engine, hit[2])
            break

    def related_experience(expl):
        f = expl.features["experience"].values
        return f["years_same"] == 0 and (f["years_close"] > 0 or f["years_near"] > 0)

    for p in range(len(parts)):
        hit = _best(engine, p, open_idx[:200], related_experience)
        if hit:
            _show(engine, hit[2], ("experience",))
            break


if __name__ == "__main__":
    main()
