"""Print real match explanations from a loaded database, for the READMEs.

Finds its cases in the data rather than naming ids, so it keeps working when the fixtures are
regenerated: (1) a participant who lists no skills, with an opening where the engine infers
"likely has" skills; (2) someone who wants to drive a forklift truck (8344) and an open
warehouse opening (4321), where the occupation reason quotes the proximity evidence.

    MATCHING_DATABASE_URL=sqlite:////tmp/fx.db matching load data/fixtures
    MATCHING_DATABASE_URL=sqlite:////tmp/fx.db python tools/example_reasons.py
"""

from __future__ import annotations

import numpy as np

from matching import runtime
from matching.explain import feature_rows, reasons


def _best(engine, p: int, openings: np.ndarray, want=None):
    """The opening (among `openings`) the engine scores highest for participant `p` whose
    explanation satisfies `want`; None if none does."""
    found = []
    for o in openings:
        out = engine.explain_pair(p, int(o))
        if out["eligible"] and (want is None or want(out["explanation"])):
            found.append((out["score"], int(o), out))
    return max(found, key=lambda x: x[0]) if found else None


def _show(title: str, engine, out, also: tuple[str, ...] = ()) -> None:
    """The headline reasons (as the API gives them) and the full explanation rows of `also`."""
    w = engine.world
    p = w.participants.frame.iloc[w.participants.index[out["participant_id"]]]
    print(f"### {title}\n")
    print(f"participant {out['participant_id']} → opening {out['opening_id']}, score {out['score']:.3f}")
    o = w.openings.frame.iloc[w.openings.index[out["opening_id"]]]
    print(f"  desired titles: {p['desired_titles']}; skills listed: {p['skills'] or '(none)'}")
    print(f"  opening: {o['title']} (STYRK {o['styrk08']})")
    for lang in ("nb", "en"):
        print(f"  [{lang}]")
        for r in reasons(out["explanation"], lang):
            print(f"    {r['effect']} {r['text']}")
        for r in feature_rows(out["explanation"], lang):
            if r["feature"] in also:
                print(f"    [{r['feature']}, contribution {r['contribution']:+.3f}] {r['text']}")
    print()


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
            _show("Participant listing no skills: likely skills inferred", engine, hit[2], ("likely_skills",))
            break

    wanted = parts.desired_codes
    trucks = [i for i in range(len(parts)) if 8344 in wanted[i] and 4321 not in wanted[i]]
    warehouse = open_idx[codes[open_idx] == 4321]
    for p in trucks:
        hit = _best(engine, p, warehouse)
        if hit:
            _show("Forklift driver → warehouse opening: occupation proximity", engine, hit[2])
            break

    def related_experience(expl):
        f = expl.features["experience"].values
        return f["years_same"] == 0 and (f["years_close"] > 0 or f["years_near"] > 0)

    for p in range(len(parts)):
        hit = _best(engine, p, open_idx[:200], related_experience)
        if hit:
            _show("Experience in a related occupation: credited by proximity", engine, hit[2], ("experience",))
            break


if __name__ == "__main__":
    main()
