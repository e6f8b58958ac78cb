"""Full-ranking quality of the trained model against the baselines, on generated worlds.

For each seed: generate a world with worldgen (the fixtures' size in the Trondheim scope, or
a national one), load it into a temporary SQLite database, run `matching.training.train`
(the default: smoothing and the suggestion-bias correction chosen on a validation period
inside the training time) and print the hold-out full-ranking figures of its card
(`matching.evaluation`: every eligible opening ranked for each held-out participant and day)
with 95 % bootstrap intervals over participants, and the model / baseline recall ratios.
With ``--corrections`` the held-out model is also fitted with every correction of
`training.CORRECTIONS` and each is evaluated on the same hold-out (to *report* the effect:
the default is chosen on validation, never on these figures).

    python benchmarks/full_ranking.py --size fixtures --seeds 3
    python benchmarks/full_ranking.py --size national --participants 50000 --openings 10000 --seeds 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from matching.evaluation import baselines, full_ranking, model_scorer
from matching.store.db import make_engine
from matching.store.load import load_directory
from matching.training import CORRECTIONS, Correction, fit_on, history, load_events, time_cutoff, train, training_set
from worldgen import generate_world

SIZES = {"fixtures": ("trondheim", 180, 420), "national": ("national", 50_000, 10_000)}


def _fmt(cell: dict) -> str:
    return f"{cell['mean']:.3f} [{cell['low']:.3f}, {cell['high']:.3f}]"


def run(seed: int, scope: str, n_p: int, n_o: int, corrections: bool, resamples: int, pooled: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        generate_world(Path(tmp) / "data", seed=seed, n_participants=n_p, n_openings=n_o, scope=scope)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'w.db'}")
        load_directory(engine, Path(tmp) / "data")
        t1, c1 = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            model = train(conn, correction="auto", bootstrap=resamples)
            fr = model.card["evaluation"]["full_ranking"]
            t2, c2 = time.perf_counter(), time.process_time()
            out = {"seed": seed, "card": fr, "correction": model.card["correction"], "holdout": model.card["evaluation"]["holdout"]}
            out["times"] = {"generate+load wall": t1 - t0, "generate+load cpu": c1 - c0, "train wall": t2 - t1, "train cpu": c2 - c1}
            if corrections or pooled:
                ts, events = training_set(conn), load_events(conn)
                cutoff = time_cutoff(ts, 0.25)
                mask = ts.time.astype("datetime64[s]") <= cutoff
                smooth = model.card["hyperparameters"]["smooth"]
            if pooled:
                # the card's held-out model again (same data, settings and negatives: the same fit),
                # for its per-participant figures, which the card keeps only as summaries
                hp = model.card["hyperparameters"]
                chosen = Correction(hp["negatives"], hp["negative_weight"])
                held = fit_on(ts, mask, l2=hp["l2"], smooth=smooth, correction=chosen, events=events)
                rep = full_ranking(ts.world, history(ts), cutoff, {"model": model_scorer(held), **baselines(ts.world)}, events=events)
                if abs(rep.mean("model", "recall@10") - fr["model"]["recall@10"]["mean"]) > 1e-3:
                    raise RuntimeError("the refitted held-out model does not reproduce the card's figure")
                out["per_participant"] = {s: rep.per_participant[s]["recall@10"] for s in rep.scorers}
            if corrections:
                scorers = {c.label: model_scorer(fit_on(ts, mask, l2=1.0, smooth=smooth, correction=c, events=events)) for c in CORRECTIONS}
                rep = full_ranking(ts.world, history(ts), cutoff, scorers, events=events)
                out["corrections"] = rep.summary(n=resamples, seed=0)
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=tuple(SIZES), default="fixtures")
    ap.add_argument("--participants", type=int, default=None)
    ap.add_argument("--openings", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=3, help="seeds 2013, 2014, … (2013 is the fixtures' own)")
    ap.add_argument("--first-seed", type=int, default=2013)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--corrections", action="store_true", help="also evaluate every correction on the hold-out (reporting only)")
    ap.add_argument(
        "--pooled",
        action="store_true",
        help="also pool the held-out participants of all seeds: recall@10 of the model minus each baseline, "
        "paired, bootstrap over participants within seeds (for worlds too small for one seed to tell)",
    )
    args = ap.parse_args()
    scope, n_p, n_o = SIZES[args.size]
    n_p, n_o = args.participants or n_p, args.openings or n_o
    print(f"full-ranking evaluation, {scope} {n_p:,} × {n_o:,}, seeds {args.first_seed}…{args.first_seed + args.seeds - 1}")
    ratios = []
    pooled: list[dict[str, np.ndarray]] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = run(seed, scope, n_p, n_o, args.corrections, args.resamples, args.pooled)
        if "per_participant" in r:
            pooled.append(r["per_participant"])
        fr = r["card"]
        print(
            f"\nseed {seed}: {fr['participants']} held-out participants, {fr['queries']} queries, {fr['relevant']} relevant "
            f"({fr['relevant_candidates']} pass blocking), {fr['mean_candidates_per_query']} candidates per query; "
            f"correction: {r['correction']['chosen']}"
        )
        print(f"  {'scorer':22s} {'recall@10':24s} {'NDCG@10':24s} {'MRR':24s}")
        for name in ("model", "baseline_distance", "baseline_occupation", "baseline_tfidf"):
            print(f"  {name:22s} {_fmt(fr[name]['recall@10']):24s} {_fmt(fr[name]['ndcg@10']):24s} {_fmt(fr[name]['mrr']):24s}")
        m = fr["model"]["recall@10"]["mean"]
        ratio = (m / fr["baseline_distance"]["recall@10"]["mean"], m / fr["baseline_occupation"]["recall@10"]["mean"])
        ratios.append(ratio)
        print(f"  recall@10 model / distance {ratio[0]:.2f}×, model / occupation {ratio[1]:.2f}×")
        for pair, cells in fr.get("paired", {}).items():
            d = cells["recall@10"]
            print(f"  paired recall@10 difference {pair}: {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
        h = r["holdout"]
        print(f"  suggested-pair hold-out: AUC {h['model']['roc_auc']:.3f}, NDCG@10 {h['model']['ndcg@10']:.3f}")
        if "corrections" in r:
            print("  corrections on the same hold-out (reported, not chosen on):")
            for name, cells in r["corrections"].items():
                if isinstance(cells, dict) and "recall@10" in cells:
                    print(f"    {name:44s} recall@10 {_fmt(cells['recall@10'])}  NDCG@10 {_fmt(cells['ndcg@10'])}")
        print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in r["times"].items()))
    a = np.array(ratios)
    print(f"\nrecall@10 ratio over seeds: vs distance min {a[:, 0].min():.2f}×, vs occupation min {a[:, 1].min():.2f}×")
    if pooled:
        print_pooled(pooled, args.resamples)


def print_pooled(pooled: list[dict[str, np.ndarray]], resamples: int) -> None:
    """Every seed's held-out participants together (each world is an independent draw of the
    same kind of world): the paired difference model − baseline with a bootstrap that resamples
    participants within each seed (each seed keeps its size)."""
    n = sum(len(p["model"]) for p in pooled)
    print(f"\npooled over {len(pooled)} seeds ({n} held-out participants):")
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, len(p["model"]), size=(resamples, len(p["model"]))) for p in pooled]
    means = {s: np.mean(np.concatenate([p[s] for p in pooled])) for s in pooled[0]}
    print("  " + ", ".join(f"{s} {m:.3f}" for s, m in means.items()))
    for other in [s for s in pooled[0] if s != "model"]:
        d = [p["model"] - p[other] for p in pooled]
        boot = np.concatenate([x[i] for x, i in zip(d, draws)], axis=1).mean(axis=1)
        lo, hi = np.quantile(boot, [0.025, 0.975])
        print(
            f"  paired recall@10 difference model - {other}: {np.concatenate(d).mean():+.3f} [{lo:+.3f}, {hi:+.3f}]; "
            f"ratio {means['model'] / means[other]:.2f}×"
        )


if __name__ == "__main__":
    main()
