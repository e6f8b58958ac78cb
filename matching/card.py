"""The model card people can read: a Markdown page with pictures, beside the JSON card.

`write(card, model_dir)` writes `matcher-<version>.md` and three PNGs next to it
(`matcher-<version>-weights.png`: level weights per criterion as bars;
`-calibration.png`: predicted vs observed interview rate by decile on the hold-out;
`-ranking.png`: the full-ranking figures against the baselines with their intervals). Every
figure is read from the card JSON (`ScoringModel.save`), so a card saved earlier can be drawn
again (`matching model card VERSION`). A card with a ``fairness`` key (the fairness report:
group → figures, small cells already suppressed) gets a fairness section, rendered as given.

matplotlib runs on its non-interactive Agg backend (no display on a server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from matching.messages import catalogue, t

#: The scorers of the full-ranking table, in order (labels: `scorer_label`).
SCORERS = ("model", "baseline_distance", "baseline_occupation", "baseline_tfidf")
METRIC_NAMES = (("recall@10", "recall@10"), ("ndcg@10", "NDCG@10"), ("mrr", "MRR"))


def scorer_label(name: str, lang: str) -> str:
    """A scorer of the card's tables ("model", "baseline_distance", …) in words, from the
    message catalogues; an id they do not know stays as it is."""
    key = f"card.scorer.{name}"
    return t(key, lang) if key in catalogue(lang) else name


def pictures(version: str) -> dict[str, str]:
    """The PNG file names of a version's card page."""
    return {k: f"matcher-{version}-{k}.png" for k in ("weights", "calibration", "ranking")}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _weights_png(card: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    labels = {f["name"]: f.get("levels", []) for f in card.get("features", [])}
    not_learned = {f["name"]: set(f.get("not_learned", [])) for f in card.get("features", [])}
    items = list(card.get("level_weights", {}).items())
    cols = 3
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 4.6, rows * 2.6), squeeze=False)
    lim = max([abs(x) for _, w in items for x in w] + [0.1]) * 1.1
    for ax, (name, w) in zip(axes.ravel(), items):
        names = [str(x) for x in (labels.get(name) or list(range(len(w))))][: len(w)]
        colours = ["#9aa5b1" if n in not_learned.get(name, ()) else ("#1f6f43" if x >= 0 else "#a4262c") for n, x in zip(names, w)]
        y = np.arange(len(w))
        ax.barh(y, w, color=colours)
        ax.set_yticks(y, [n if len(n) <= 34 else n[:33] + "…" for n in names], fontsize=6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlim(-lim, lim)
        ax.set_title(name, fontsize=8)
        ax.tick_params(axis="x", labelsize=6)
    for ax in axes.ravel()[len(items) :]:
        ax.axis("off")
    fig.suptitle("Level weights (log-odds, relative to each criterion's neutral level; grey: not learned)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _calibration_png(card: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    cal = card.get("evaluation", {}).get("calibration") or []
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    if cal:
        pred = [c["predicted"] for c in cal]
        obs = [c["observed"] for c in cal]
        top = max([*pred, *obs, 0.05]) * 1.1
        ax.plot([0, top], [0, top], color="#9aa5b1", linewidth=1, label="perfect calibration")
        ax.plot(pred, obs, marker="o", color="#1f4e79", label="hold-out deciles")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.legend(fontsize=7)
    ax.set_xlabel("predicted chance of an interview", fontsize=8)
    ax.set_ylabel("observed share reaching an interview", fontsize=8)
    ax.set_title("Calibration on the hold-out (suggested pairs)", fontsize=9)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ranking_png(card: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fr = card.get("evaluation", {}).get("full_ranking") or {}
    rows = [(key, scorer_label(key, "en")) for key in SCORERS if key in fr]
    fig, axes = plt.subplots(1, len(METRIC_NAMES), figsize=(11, 2.8), sharey=True)
    for ax, (metric, title) in zip(axes, METRIC_NAMES):
        means = [fr[k][metric]["mean"] for k, _ in rows]
        lows = [fr[k][metric]["mean"] - fr[k][metric]["low"] for k, _ in rows]
        highs = [fr[k][metric]["high"] - fr[k][metric]["mean"] for k, _ in rows]
        y = np.arange(len(rows))
        ax.barh(y, means, xerr=[lows, highs], color=["#1f4e79"] + ["#9aa5b1"] * (len(rows) - 1), capsize=3)
        ax.set_yticks(y, [label for _, label in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
    fig.suptitle("Full ranking on the hold-out: every eligible opening ranked (95% bootstrap intervals over participants)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(c: dict[str, float]) -> str:
    return f"{c['mean']:.3f} [{c['low']:.3f}, {c['high']:.3f}]"


def markdown(card: dict[str, Any]) -> str:
    version = card.get("version", "?")
    pic = pictures(version)
    ev = card.get("evaluation", {})
    fr = ev.get("full_ranking") or {}
    out = [f"# Model card: matcher {version}", ""]
    out += [f"- **What**: {card.get('model', '')}", f"- **Intended use**: {card.get('intended_use', '')}"]
    td = card.get("training_data", {})
    if td:
        out.append(
            f"- **Training data**: {td.get('pairs')} suggested pairs ({td.get('positives')} reached interview or better), "
            f"first suggested {td.get('first_suggestion_from')} … {td.get('first_suggestion_to')}; label: {td.get('label')}; "
            f"sha256 `{str(td.get('sha256', ''))[:16]}…`"
        )
    out += [f"- **Trained**: {card.get('trained_at', '')}", f"- **Evaluation split**: {ev.get('split', '')}", ""]

    out += ["## Full ranking (the headline figure)", ""]
    if fr:
        out += [
            fr.get("what", ""),
            "",
            f"{fr.get('participants')} held-out participants, {fr.get('queries')} (participant, day) queries, "
            f"{fr.get('relevant')} relevant openings ({fr.get('relevant_candidates')} pass the hard constraints; "
            f"the others count as missed), {fr.get('mean_candidates_per_query')} candidate openings per query on average; "
            f"{fr.get('bootstrap', {}).get('resamples')} bootstrap resamples (seed {fr.get('bootstrap', {}).get('seed')}).",
            "",
            "| scorer | recall@10 | NDCG@10 | MRR |",
            "|---|---|---|---|",
        ]
        out += [f"| {scorer_label(k, 'en')} | " + " | ".join(_cell(fr[k][m]) for m, _ in METRIC_NAMES) + " |" for k in SCORERS if k in fr]
        paired = fr.get("paired") or {}
        if paired:
            out += [
                "",
                "Paired differences in recall@10 (the same participants resampled for both; an interval above 0 is beyond noise):",
                "",
            ]
            out += [
                f"- {name}: {c['recall@10']['mean']:+.3f} [{c['recall@10']['low']:+.3f}, {c['recall@10']['high']:+.3f}]"
                for name, c in paired.items()
            ]
        out += ["", f"![full ranking]({pic['ranking']})", ""]
    else:
        out += ["Not evaluated (a card from before the full-ranking evaluation).", ""]

    corr = card.get("correction")
    if corr:
        out += [
            "## Learning from more than what advisers suggested",
            "",
            f"Chosen: **{corr.get('chosen')}**.",
            "",
            corr.get("assumption", ""),
            "",
        ]
        if corr.get("validation"):
            out += [f"Chosen by {corr.get('chosen_by')}:", "", "| correction | recall@10 | NDCG@10 | MRR |", "|---|---|---|---|"]
            out += [f"| {v['correction']} | {v['recall@10']:.3f} | {v['ndcg@10']:.3f} | {v['mrr']:.3f} |" for v in corr["validation"]]
            out.append("")

    holdout = ev.get("holdout") or {}
    if holdout:
        out += [
            "## Suggested pairs only",
            "",
            f"The {holdout.get('pairs')} held-out suggested pairs ({holdout.get('positives')} positive), ranked among themselves:",
            "",
            "| scorer | ROC AUC | NDCG@10 |",
            "|---|---|---|",
        ]
        out += [f"| {k} | {v.get('roc_auc')} | {v.get('ndcg@10')} |" for k, v in holdout.items() if isinstance(v, dict) and "roc_auc" in v]
        out.append("")
    out += [
        "## Calibration",
        "",
        "Predicted chance of an interview against the observed share, by decile of the prediction, on the hold-out's suggested pairs.",
        "",
    ]
    cal = ev.get("calibration") or []
    if cal:
        out += ["| decile | pairs | predicted | observed |", "|---|---|---|---|"]
        out += [f"| {i + 1} | {c['pairs']} | {c['predicted']:.3f} | {c['observed']:.3f} |" for i, c in enumerate(cal)]
        out += ["", f"![calibration]({pic['calibration']})", ""]

    out += [
        "## Level weights",
        "",
        "Each criterion's levels in log-odds, relative to its neutral level (0). "
        "Grey bars: no training pair at that level, weight not learned (0 step).",
        "",
    ]
    not_learned = {f["name"]: f.get("not_learned") for f in card.get("features", []) if f.get("not_learned")}
    if not_learned:
        out += ["Not learned: " + "; ".join(f"{c}: {', '.join(v)}" for c, v in not_learned.items()), ""]
    out += [f"![level weights]({pic['weights']})", ""]

    fairness = card.get("fairness")
    if fairness:
        out += ["## Fairness", ""]
        out += _fairness(fairness)
    hp = card.get("hyperparameters") or {}
    if hp:
        out += ["## Settings", ""] + [f"- {k}: {v}" for k, v in hp.items() if not isinstance(v, dict)] + [""]
    libs = card.get("libraries") or {}
    if libs:
        out += ["## Libraries", "", ", ".join(f"{k} {v}" for k, v in libs.items()), ""]
    return "\n".join(out)


def _fairness(fairness: Any) -> list[str]:
    """A fairness section from whatever the fairness report stores: a list of row dicts (a
    table), a dict of such lists (one table each), or anything else (as JSON)."""
    import json

    def table(rows: list[dict[str, Any]]) -> list[str]:
        cols = list(dict.fromkeys(k for r in rows for k in r))
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in cols) + " |" for r in rows]
        return [*lines, ""]

    if isinstance(fairness, list) and all(isinstance(r, dict) for r in fairness):
        return table(fairness)
    if isinstance(fairness, dict) and fairness and all(isinstance(v, list) for v in fairness.values()):
        out: list[str] = []
        for name, rows in fairness.items():
            out += [f"### {name}", "", *table(rows)]
        return out
    return ["```json", json.dumps(fairness, indent=2, ensure_ascii=False, default=str), "```", ""]


def write(card: dict[str, Any], model_dir: Path) -> Path:
    """Write the page and its pictures beside the card; returns the page's path."""
    version = card["version"]
    pic = pictures(version)
    _weights_png(card, model_dir / pic["weights"])
    _calibration_png(card, model_dir / pic["calibration"])
    _ranking_png(card, model_dir / pic["ranking"])
    page = model_dir / f"matcher-{version}.md"
    page.write_text(markdown(card), encoding="utf-8")
    return page
