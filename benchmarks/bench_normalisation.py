"""Title normalisation: held-out accuracy (4/3/2-digit), typo robustness and batch throughput.

Honest by construction: NAV's development titles are split by *unique title* (case-insensitive)
with a fixed seed; the normaliser is built without the held-out titles and scored on them.
English is measured the same way on ESCO alternative labels (held out from the index; the
preferred labels stay in). A title that normalises to ``None`` counts as wrong.

    .venv/bin/python benchmarks/bench_normalisation.py --seed 0 --holdout-frac 0.2 \\
        --n-throughput 5000
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching.taxonomy.titles import TitleNormaliser, reference_labels  # noqa: E402


@dataclass(frozen=True)
class Split:
    """Index labels without the held-out titles, and held-out titles with their gold codes."""

    labels: pd.DataFrame
    nb: pd.DataFrame  # title, gold (frozenset of the most-observed code(s))
    en: pd.DataFrame  # title, gold (frozenset of codes)


def _gold(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(t=rows["label"].str.casefold())
    top = rows[rows["weight"] == rows.groupby("t")["weight"].transform("max")]
    return (top.groupby("t").agg(title=("label", "first"), gold=("code", frozenset))
            .reset_index(drop=True))


def split_labels(seed: int, holdout_frac: float, n_english: int) -> Split:
    """Hold out a fraction of NAV titles (by unique folded title) and some ESCO alt labels."""
    rng = np.random.default_rng(seed)
    labels = reference_labels()
    folded = labels["label"].str.casefold()
    source = labels["source"]

    nav = source.eq("nav_title")
    uniq = np.array(sorted(folded[nav].unique()))
    held = set(rng.choice(uniq, size=round(holdout_frac * len(uniq)), replace=False))
    nb_mask = nav & folded.isin(held)

    alt = source.eq("esco_alt")
    alt_only = np.array(sorted(set(folded[alt]) - set(folded[~alt])))  # not also a preferred label
    en_held = set(rng.choice(alt_only, size=min(n_english, len(alt_only)), replace=False))
    en_mask = alt & folded.isin(en_held)
    kept = labels[~nb_mask & ~en_mask].reset_index(drop=True)
    return Split(kept, _gold(labels[nb_mask]), _gold(labels[en_mask]))


def accuracy(norm: TitleNormaliser, held: pd.DataFrame) -> dict[str, float]:
    """Share of held-out titles whose code agrees with a gold code on the first 4/3/2 digits."""
    matches = norm.normalise_many(held["title"].tolist())
    out = {"n": float(len(held)), "none": float(np.mean([m is None for m in matches]))}
    for digits in (4, 3, 2):
        ok = [m is not None and any(m.code[:digits] == g[:digits] for g in gold)
              for m, gold in zip(matches, held["gold"])]
        out[f"acc{digits}"] = float(np.mean(ok))
    methods = pd.Series([m.method if m else "none" for m in matches]).value_counts(normalize=True)
    out.update({f"method_{k}": float(v) for k, v in methods.items()})
    return out


def one_edit(title: str, rng: np.random.Generator) -> str:
    """Delete, insert, replace or transpose one character."""
    i = int(rng.integers(0, len(title)))
    c = str(rng.choice(list("abdefgiklmnoprstuvæøå")))
    op = int(rng.integers(0, 4))
    if op == 0:
        return title[:i] + title[i + 1:]
    if op == 1:
        return title[:i] + c + title[i:]
    if op == 2:
        return title[:i] + c + title[i + 1:]
    if i + 1 >= len(title):
        return title
    return title[:i] + title[i + 1] + title[i] + title[i + 2:]


def typo_agreement(norm: TitleNormaliser, pool: list[str], n: int, seed: int) -> float:
    """Share of known Norwegian titles that keep their code after one random edit."""
    rng = np.random.default_rng(seed)
    clean = [str(t) for t in rng.choice(pool, size=n, replace=False)]
    before = norm.normalise_many(clean)
    after = norm.normalise_many([one_edit(t, rng) for t in clean])
    return float(np.mean([a is not None and b is not None and a.code == b.code
                          for a, b in zip(after, before)]))


def throughput(norm: TitleNormaliser, pool: list[str], n: int, seed: int) -> tuple[float, float]:
    """Titles/s for one batch of ``n`` titles: every second one misspelt, every fifth with a
    number appended, so most miss the exact index and exercise the fuzzy and TF-IDF stages."""
    rng = np.random.default_rng(seed)
    titles = []
    for i, t in enumerate(rng.choice(pool, size=n)):
        t = one_edit(str(t), rng) if i % 2 else str(t)
        titles.append(f"{t} {i}" if i % 5 == 0 else t)
    t0 = time.perf_counter()
    res = norm.normalise_many(titles)
    dt = time.perf_counter() - t0
    return n / dt, float(np.mean([m is not None and m.method == "exact" for m in res]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--holdout-frac", type=float, default=0.2)
    ap.add_argument("--n-english", type=int, default=2000, help="held-out ESCO alt labels")
    ap.add_argument("--n-typos", type=int, default=1000, help="known titles given one edit")
    ap.add_argument("--n-throughput", type=int, default=5000)
    ap.add_argument("--min-score", type=float, default=None, help="override the threshold")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import sklearn.feature_extraction.text  # noqa: F401  (shared with the scoring model)

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    reference_labels()
    t_read = time.perf_counter() - t0
    split = split_labels(args.seed, args.holdout_frac, args.n_english)
    params = {} if args.min_score is None else {"min_score": args.min_score}
    t0 = time.perf_counter()
    norm = TitleNormaliser.from_frame(split.labels, **params)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    norm._ensure_classifier()  # normally fitted on first use; timed separately here
    t_clf = time.perf_counter() - t0

    print(f"index       {len(split.labels):,} labels (seed {args.seed}, hold-out "
          f"{args.holdout_frac:.0%}); sklearn import {t_import:.2f} s, read {t_read:.2f} s, "
          f"exact index {t_exact:.2f} s, classifier {t_clf:.2f} s")
    for name, held in (("nb NAV titles", split.nb), ("en ESCO alt labels", split.en)):
        a = accuracy(norm, held)
        methods = ", ".join(f"{k[7:]} {v:.0%}" for k, v in a.items() if k.startswith("method_"))
        print(f"{name:<19} n={int(a['n']):5d}  acc@4 {a['acc4']:.3f}  acc@3 {a['acc3']:.3f}  "
              f"acc@2 {a['acc2']:.3f}  none {a['none']:.3f}  ({methods})")
    nb_pool = split.labels.loc[split.labels["source"] == "nav_title", "label"].tolist()
    agree = typo_agreement(norm, nb_pool, min(args.n_typos, len(nb_pool)), args.seed)
    print(f"typos       {min(args.n_typos, len(nb_pool)):,} known NAV titles with one edit: "
          f"{agree:.3f} keep their code")
    rate, exact = throughput(norm, nb_pool, args.n_throughput, args.seed)
    print(f"throughput  {args.n_throughput:,}-title batch: {rate:,.0f} titles/s "
          f"({exact:.0%} exact hits, rest fuzzy/TF-IDF)")


if __name__ == "__main__":
    main()
