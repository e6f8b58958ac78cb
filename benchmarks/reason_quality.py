"""How readable are the reasons? Every fixture participant's list and explanations, nb and en,
through the HTTP API (the app in-process on a temporary SQLite copy of the fixtures, lists
computed live), counted against issue 11's goals (all three 0):

* **English in bokmål** — nb responses (reason texts, feature texts, level labels,
  descriptions) holding English words: words of the English catalogue and of ESCO's English
  skill labels that are not bokmål words (Norsk Ordbank lemmas, the nb catalogue), at least
  two in one text. Names quoted as names («…») are left out: a skill without a Norwegian ESCO
  label is quoted by its English name, and said to be one, in Norwegian.
* **Raw ids and internal codes** in reasons and explanations: ``esco:`` ids, floats with 5 or
  more decimals, ordinal day numbers (6-digit integers), bit masks (``*_mask`` values),
  occupation codes as integers (``*_code`` values that are numbers).
* **Positive statements with a negative effect** — a reason or feature row whose text is a
  positive phrase of the catalogue (same occupation, all needs covered, meets a requirement,
  within the wanted hours, likely has skills, a preferred industry, …) and whose effect is "−".

Also printed: list entries marked weak, and how often the headline reasons are the same for
every entry of a list. ``python benchmarks/reason_quality.py [--explain-top 5]``
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

WORD = re.compile(r"[A-Za-zÆØÅæøå]+")
QUOTED = re.compile(r"«[^»]*»")
RAW = {
    "esco id": re.compile(r"esco:[0-9a-f]{6,}"),
    "long float": re.compile(r"\d\.\d{5,}"),
    "ordinal day": re.compile(r"(?<![\d.])7\d{5}(?![\d.])"),
}


def _english_words() -> set[str]:
    import pandas as pd

    from matching.messages import en, nb
    from matching.taxonomy._files import reference_path

    words: set[str] = set()
    for phrase in en.MESSAGES.values():
        words |= {w.lower() for w in WORD.findall(re.sub(r"\{[^}]*\}", " ", phrase))}
    labels = pd.read_csv(reference_path("skills.csv"), dtype=str, keep_default_na=False)["label_en"]
    for label in labels:
        words |= {w.lower() for w in WORD.findall(label)}
    norwegian = {w.strip().lower() for w in reference_path("ordbank_lemmas_nb.txt").read_text(encoding="utf-8").split()}
    for phrase in nb.MESSAGES.values():
        norwegian |= {w.lower() for w in WORD.findall(phrase)}
    return {w for w in words - norwegian if len(w) >= 3}


def _is_english(text: str, english: set[str]) -> bool:
    return sum(w.lower() in english for w in WORD.findall(QUOTED.sub(" ", text))) >= 2


def _raw_findings(obj: Any, key: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _raw_findings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            out += _raw_findings(v, key)
    else:
        if key.endswith("_mask"):
            out.append("mask")
        if key.endswith("_code") and isinstance(obj, int | float) and not isinstance(obj, bool):
            out.append("code as number")
        text = json.dumps(obj) if isinstance(obj, float) else str(obj)
        out += [name for name, rx in RAW.items() if rx.search(text)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "fixtures")
    ap.add_argument("--explain-top", type=int, default=5, help="explain this many entries of each list")
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()

    import datetime as dt

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_token
    from matching.config import Settings
    from matching.messages import LANGUAGES, POSITIVE, pattern
    from matching.store.db import make_engine
    from matching.store.load import load_directory

    english = _english_words()
    positive = [pattern(k, lang) for lang in LANGUAGES for k in POSITIVE]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "reasons.db"
        engine = make_engine(f"sqlite:///{db}")
        load_directory(engine, args.data)
        engine.dispose()
        settings = Settings(
            database_url=f"sqlite:///{db}",
            today=dt.date(2026, 11, 16),
            model_dir=ROOT / "models",
            secret_key="bench-" + "k" * 40,
            environment="test",
            rate_limit="1000000/minute",
            rate_limit_live="1000000/minute",
        )
        client = TestClient(create_app(settings))
        headers = {"Authorization": "Bearer " + create_token("bench", "admin", [], settings)}
        people = client.get("/v1/participants", params={"limit": 1000}, headers=headers).json()["items"]
        counts: Counter[str] = Counter()
        raw_kinds: Counter[str] = Counter()
        examples: dict[str, str] = {}
        started = time.perf_counter()
        for person in people:
            pid = person["participant_id"]
            for lang in ("nb", "en"):
                body = client.get(f"/v1/participants/{pid}/matches", params={"limit": args.limit, "lang": lang}, headers=headers).json()
                responses = [("list", body, [(r, r["effect"]) for m in body["matches"] for r in m["reasons"]])]
                counts["list entries"] += len(body["matches"]) if lang == "nb" else 0
                counts["weak entries"] += sum(bool(m.get("weak")) for m in body["matches"]) if lang == "nb" else 0
                heads = [tuple(r["feature"] for r in m["reasons"][:3]) for m in body["matches"]]
                if lang == "nb" and len(heads) > 1:
                    counts["lists"] += 1
                    counts["lists with the same headline for all"] += len(set(heads)) == 1
                for m in body["matches"][: args.explain_top]:
                    pair = client.get(f"/v1/participants/{pid}/matches/{m['opening_id']}", params={"lang": lang}, headers=headers).json()
                    responses.append(("explanation", pair, [(f, f["effect"]) for f in pair["features"]]))
                for kind, resp, rows in responses:
                    counts[f"{kind} responses"] += 1
                    texts = [r["text"] for r, _ in rows]
                    texts += [r.get("level_label", "") + " " + r.get("description", "") for r, _ in rows]
                    if lang == "nb":
                        counts["nb responses"] += 1
                        hit = [x for x in texts if _is_english(x, english)]
                        if hit:
                            counts["nb responses with English text"] += 1
                            examples.setdefault("English in nb", hit[0])
                    found = _raw_findings([{k: v for k, v in r.items() if k != "text"} for r, _ in rows])
                    found += _raw_findings({k: resp[k] for k in ("intercept",) if k in resp})
                    found += [n for x in texts for n, rx in RAW.items() if rx.search(x)]
                    if found:
                        counts["responses with raw ids/codes"] += 1
                        raw_kinds.update(set(found))
                    for r, effect in rows:
                        if effect == "-" and any(rx.fullmatch(r["text"]) for rx in positive):
                            counts["positive statements with a negative effect"] += 1
                            examples.setdefault("positive with −", r["text"])
        seconds = time.perf_counter() - started
    print(
        f"{len(people)} participants, nb and en, lists of {args.limit}, top {args.explain_top} explained "
        f"({counts['list responses']} list + {counts['explanation responses']} explanation responses, {seconds:.0f} s)"
    )
    for key in ("nb responses with English text", "responses with raw ids/codes", "positive statements with a negative effect"):
        print(f"  {key:45} {counts[key]:6}   (goal 0)")
    print(f"  {'  raw kinds':45} {dict(raw_kinds)}")
    print(f"  {'weak entries / list entries':45} {counts['weak entries']} / {counts['list entries']}")
    print(f"  {'lists with the same 3 headline criteria':45} {counts['lists with the same headline for all']} / {counts['lists']}")
    for name, text in examples.items():
        print(f"  e.g. {name}: {text[:150]}")


if __name__ == "__main__":
    main()
