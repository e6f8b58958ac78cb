"""Command line: `matching load | train | model | refresh | serve | token | generate | titles | run`."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from matching.config import DEFAULT_FIXTURES, Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=True)
ROLES = ("adviser", "liaison", "batch", "admin")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    _setup_logging(verbose)


def _db(settings: Settings):
    from matching.store.db import engine_for

    return engine_for(settings.database_url)


def _load_or_exit(settings: Settings, directory: Path) -> dict[str, int]:
    """Import a directory; a rejected import prints every error and exits with code 2."""
    from matching.store.load import LoadError, load_directory

    try:
        return load_directory(_db(settings), directory, today=settings.as_of())
    except LoadError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(code=2) from None


@app.command()
def load(directory: Annotated[Path, typer.Argument(help="directory with offices/employers/openings/participants/outcomes .csv")]) -> None:
    """Validate and import a data directory (all or nothing; loading twice is a no-op)."""
    counts = _load_or_exit(get_settings(), directory)
    console.print("loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command()
def generate(
    out_dir: Annotated[Path | None, typer.Argument(help="directory to write (or --out)", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="directory to write")] = None,
    scope: str = typer.Option("national", help="national (all of Norway) | trondheim (the fixtures' nine offices)"),
    seed: int = 2013,
    participants: int = typer.Option(180, min=0),
    employers: int = typer.Option(None, min=1, help="default: one per 5.6 openings"),
    openings: int = typer.Option(420, min=0),
    years: float = 2.0,
    outcomes: bool = typer.Option(True, "--outcomes/--no-outcomes", help="simulate an outcome history"),
) -> None:
    """Write a synthetic, seeded world (national by default; the fixtures are --scope trondheim)."""
    from worldgen import SCOPES, generate_world

    if (out_dir is None) == (out is None):
        raise typer.BadParameter("give the output directory once: OUT_DIR or --out DIR", param_hint="OUT_DIR")
    if scope not in SCOPES:
        raise typer.BadParameter(f"scope must be one of {', '.join(SCOPES)}", param_hint="--scope")
    directory = out_dir or out
    assert directory is not None  # exactly one of them, checked above
    counts = generate_world(
        directory,
        seed=seed,
        n_participants=participants,
        n_employers=employers,
        n_openings=openings,
        years=years,
        scope=scope,
        outcomes=outcomes,
    )
    console.print("generated: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


class _Operator:
    """The audit log's actor for a command-line move of the served model."""

    role = "operator"

    def __init__(self, sub: str) -> None:
        self.sub = sub


def _move_served(settings: Settings, action: str, version: str | None, by: str, reason: str) -> dict:
    """Promote `version` (or roll back if None): the history line, the pointer and an audit row
    in the configured database — committed together; a refused move exits 2."""
    import json

    from matching import registry
    from matching.store import audit

    def record(entry: dict) -> None:
        detail = json.dumps({k: entry[k] for k in ("version", "previous", "reason")}, ensure_ascii=False)
        audit.record(conn, _Operator(by), f"model_{action}", detail=detail)

    try:
        with _db(settings).begin() as conn:
            if action == "rollback":
                return registry.rollback(settings.model_dir, by=by, reason=reason, before=record)
            assert version is not None
            return registry.promote(settings.model_dir, version, by=by, reason=reason, before=record)
    except registry.RegistryError as exc:
        print(f"model {action}: {exc}", file=sys.stderr)
        raise typer.Exit(code=2) from None


@app.command()
def train(
    holdout_frac: float = typer.Option(0.25, min=0.05, max=0.5),
    l2: float = typer.Option(1.0, min=0.0),
    smooth: float | None = typer.Option(None, min=0.0, help="step smoothing (default: chosen on the training part's validation)"),
    negatives: int | None = typer.Option(
        None, min=0, help="sampled unsuggested openings per suggested pair, as 'no interview' (0: none; default: see --auto-correction)"
    ),
    negative_weight: float = typer.Option(0.25, min=0.0, max=1.0, help="weight of each sampled negative (with --negatives)"),
    auto_correction: bool = typer.Option(
        True,
        "--auto-correction/--no-auto-correction",
        help="choose the sampled negatives (none included) on a validation period inside the training time; "
        "--no-auto-correction without --negatives: none",
    ),
    promote: bool = typer.Option(False, "--promote", help="serve the new model at once (default: only if none is served yet)"),
    by: str | None = typer.Option(None, "--by", help="who promotes (history, audit log); default the OS user"),
    reason: str | None = typer.Option(None, "--reason", help="why it is promoted (with --promote)"),
) -> None:
    """Train a candidate model on the stored outcome history: models/matcher-<version>.*

    The candidate is served only with --promote, or if no model is served yet (a fresh clone);
    otherwise `matching model promote VERSION --reason …` serves it."""
    from matching import card as card_page
    from matching import registry
    from matching.training import Correction
    from matching.training import train as train_model

    settings = get_settings()
    correction: Correction | Literal["auto"] = (
        Correction(negatives, negative_weight) if negatives is not None else "auto" if auto_correction else Correction(0)
    )
    with _db(settings).connect() as conn:
        model = train_model(conn, holdout_frac=holdout_frac, l2=l2, smooth=smooth, correction=correction)
    artefact, card = model.save(settings.model_dir)
    page = card_page.write({**model.card, **model.to_dict()}, settings.model_dir)
    console.print(f"model {model.version} → {artefact}")
    fr = model.card["evaluation"]["full_ranking"]
    console.print(
        f"  full ranking (hold-out: {fr['participants']} participants, {fr['queries']} queries, "
        f"{fr['mean_candidates_per_query']} eligible openings each), mean [95% interval]:"
    )
    for name in ("model", "baseline_distance", "baseline_occupation", "baseline_tfidf"):
        cells = "   ".join(
            f"{m} {fr[name][m]['mean']:.3f} [{fr[name][m]['low']:.3f}, {fr[name][m]['high']:.3f}]" for m in ("recall@10", "ndcg@10", "mrr")
        )
        console.print(f"  {name:22s} {cells}")
    console.print(f"  correction: {model.card['correction']['chosen']}")
    ev = model.card["evaluation"]["holdout"]
    console.print("  suggested pairs only:")
    for name in ("model", "baseline_distance", "baseline_tfidf_title"):
        console.print(f"  {name:22s} ROC AUC {ev[name]['roc_auc']:.3f}   NDCG@10 {ev[name]['ndcg@10']:.3f}")
    console.print(f"  hold-out: {ev['pairs']} pairs, {ev['positives']} positive; card: {card}; page: {page}")
    not_learned = model.card.get("not_learned") or {}
    if not_learned:
        console.print(
            "  not learned (no training pair at the level; weight step 0): " + "; ".join(f"{c} {v}" for c, v in not_learned.items())
        )
    current = registry.served(settings.model_dir)
    if current == model.version:
        console.print(f"served: {model.version} (this version was already the served one; its files were rewritten)")
    elif promote or current is None:
        why = reason or ("promoted at training" if promote else "first model: none was served")
        _move_served(settings, "promote", model.version, by or _os_user(), why)
        console.print(f"served: {model.version} (was {current or 'none'})")
    else:
        console.print(
            f"candidate {model.version} saved; still serving {current}. Serve it with: matching model promote {model.version} --reason TEXT"
        )


model_app = typer.Typer(no_args_is_help=True, help="Trained models: list, show the card, promote one to be served, roll back.")
app.add_typer(model_app, name="model")


def _fmt(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, int | float) else "–"


@model_app.command("list")
def model_list() -> None:
    """Every saved model (oldest first): created, hold-out metrics from its card, which is served; then the promotion history."""
    from matching import registry

    settings = get_settings()
    out = Console(highlight=False, markup=False)  # reasons are free text: print them as written
    entries = registry.entries(settings.model_dir)
    if not entries:
        out.print(f"no trained models in {settings.model_dir}")
        return
    out.print(f"{'':2}{'version':14} {'created':26} {'AUC':>6} {'NDCG@10':>7} {'dist AUC':>8}")
    for e in entries:
        h = e.holdout
        out.print(
            f"{'*' if e.served else ' ':2}{e.version:14} {e.created:26} {_fmt((h.get('model') or {}).get('roc_auc')):>6} "
            f"{_fmt((h.get('model') or {}).get('ndcg@10')):>7} {_fmt((h.get('baseline_distance') or {}).get('roc_auc')):>8}"
            + ("  (served)" if e.served else "")
        )
    hist = registry.history(settings.model_dir)
    out.print("\nhistory:" if hist else "\nhistory: none (no promotion or rollback recorded)")
    for h in hist:
        out.print(f"  {h['at']}  {h['action']:8} {h.get('previous') or 'none'} → {h['version']}  by {h['by']}: {h['reason']}")


@model_app.command("show")
def model_show(version: Annotated[str, typer.Argument(help="model version, e.g. 1.7385c1d5")]) -> None:
    """Print a model's card (JSON)."""
    import json

    from matching import registry

    try:
        card = registry.card(get_settings().model_dir, version)
    except registry.RegistryError as exc:
        print(f"model show: {exc}", file=sys.stderr)
        raise typer.Exit(code=2) from None
    print(json.dumps(card, indent=2, ensure_ascii=False))


@model_app.command("card")
def model_card(version: Annotated[str, typer.Argument(help="model version, e.g. 1.7385c1d5")]) -> None:
    """Write a model's readable card (Markdown + pictures) beside its JSON card, from the JSON card."""
    from matching import card as card_page
    from matching import registry

    settings = get_settings()
    try:
        data = registry.card(settings.model_dir, version)
    except registry.RegistryError as exc:
        print(f"model card: {exc}", file=sys.stderr)
        raise typer.Exit(code=2) from None
    if "version" not in data:
        print(f"model card: no JSON card for {version}", file=sys.stderr)
        raise typer.Exit(code=2)
    console.print(f"card page: {card_page.write(data, settings.model_dir)}")


@model_app.command("promote")
def model_promote(
    version: Annotated[str, typer.Argument(help="the model version to serve")],
    reason: str = typer.Option(..., "--reason", help="why (history, audit log)"),
    by: str | None = typer.Option(None, "--by", help="who; default the OS user"),
) -> None:
    """Serve VERSION from now on (the running API picks it up on its next request)."""
    entry = _move_served(get_settings(), "promote", version, by or _os_user(), reason)
    console.print(f"served: {entry['version']} (was {entry['previous'] or 'none'})")


@model_app.command("rollback")
def model_rollback(
    reason: str = typer.Option(..., "--reason", help="why (history, audit log)"),
    by: str | None = typer.Option(None, "--by", help="who; default the OS user"),
) -> None:
    """Serve again the model that was served before the current one."""
    entry = _move_served(get_settings(), "rollback", None, by or _os_user(), reason)
    console.print(f"served: {entry['version']} (rolled back from {entry['previous']})")


report_app = typer.Typer(no_args_is_help=True, help="Reports for data owners: fairness of the lists by group.")
app.add_typer(report_app, name="report")

#: The fairness table's columns (figure, header) in the CLI.
FAIRNESS_COLUMNS = (
    ("participants", "n"),
    ("exposure", "exposure"),
    ("appearances_per_participant", "in top-10s"),
    ("mean_score", "score"),
    ("mean_distance_km", "km"),
    ("interview_rate", "interview"),
    ("start_rate", "start"),
)


def _cell(row: dict, key: str) -> str:
    if key in row.get("suppressed", []):
        return "suppressed"
    v = row.get(key)
    if v is None:
        return "–"
    return str(v) if isinstance(v, int) else f"{v:.3f}"


@report_app.command("fairness")
def report_fairness(
    model: str | None = typer.Option(
        None, "--model", help="a saved model version: its lists on today's data (default: the served run's stored lists)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    by: str | None = typer.Option(None, "--by", help="who reads it (audit log); default the OS user"),
) -> None:
    """Exposure, list quality and outcomes by group (age band, adaptation needs, Norwegian level,
    licence, urban/rural home, office); cells under 10 participants are suppressed."""
    import json

    from rich.table import Table

    from matching import fairness, registry
    from matching.scoring import ScoringModel
    from matching.store import audit

    settings = get_settings()
    engine = _db(settings)
    try:
        with engine.connect() as conn:
            if model is None:
                rep = fairness.served_run_report(conn)
            else:
                registry.card(settings.model_dir, model)  # unknown version: RegistryError
                rep = fairness.model_report(conn, ScoringModel.load(settings.model_dir, model), settings.as_of())
    except (fairness.NothingToReport, registry.RegistryError) as exc:
        print(f"report fairness: {exc}", file=sys.stderr)
        raise typer.Exit(code=2) from None
    with engine.begin() as conn:  # group-wise figures about participants: who read them is logged
        audit.record(conn, _Operator(by or _os_user()), "read_fairness_report", detail=json.dumps(rep["source"]))
    if as_json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return
    out = Console(highlight=False, width=max(Console().width, 120))  # "suppressed" is never cut short
    src = rep["source"]
    what = (
        f"run {src['run_id']} (model {src['model_version']})" if src["kind"] == "run" else f"model {src['model_version']} on today's data"
    )
    out.print(f"Fairness of {what}, as of {rep['as_of']}; top {rep['top_n']}; cells under {rep['min_cell']} participants suppressed")
    gap = rep["largest_exposure_gap"]
    out.print(
        f"largest exposure gap: {gap['dimension']} {gap['gap']:.3f}"
        if gap
        else "largest exposure gap: none (no grouping with two shown groups)"
    )
    for dim in rep["dimensions"]:
        table = Table(title=f"{dim['name']} (exposure gap {_cell(dim, 'exposure_gap')})", title_justify="left")
        table.add_column("group", no_wrap=True)
        for _, header in FAIRNESS_COLUMNS:
            table.add_column(header, justify="right", no_wrap=True, min_width=10)
        for row in [*dim["groups"], {"group": "all", **rep["overall"]}]:
            table.add_row(row["group"], *(_cell(row, key) for key, _ in FAIRNESS_COLUMNS))
        out.print(table)


def _gate(settings: Settings) -> dict | None:
    """The nightly promotion gate (matching/gate.py) on the newest candidate: promote it if it
    passes (the registry's audited move, by "nightly-gate"); the verdict for the run's row."""
    from matching import gate

    candidate = gate.candidate(settings.model_dir)
    if candidate is None:
        console.print("promotion gate: no candidate newer than the served model")
        return None
    with _db(settings).connect() as conn:
        verdict = gate.judge(
            conn,
            settings.model_dir,
            candidate,
            settings.as_of(),
            tolerance=settings.gate_tolerance,
            exposure_margin=settings.gate_exposure_margin,
            samples=settings.gate_bootstrap_samples,
        )
    for reason in verdict.detail.get("reasons", []):
        console.print(f"promotion gate: {verdict.decision} {candidate}: {reason}", markup=False, highlight=False)
    if verdict.promoted:
        why = "promotion gate passed: " + "; ".join(verdict.detail.get("reasons", []))
        _move_served(settings, "promote", candidate, "nightly-gate", why)
        console.print(f"served: {candidate} (was {verdict.served or 'none'})")
    else:
        console.print(f"still serving {verdict.served}")
    return gate.record(verdict)


@app.command()
def refresh(
    backend: str = typer.Option("local", help="local | dask"),
    jobs: int = typer.Option(None, min=1, help="local worker processes (default: every core this process may use)"),
    scheduler: str = typer.Option(None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786"),
    workers: int = typer.Option(None, min=1, help="run on a Dask LocalCluster with this many worker processes"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    auto_promote: bool = typer.Option(
        False,
        "--auto-promote",
        help="first put the newest trained candidate through the promotion gate (not worse beyond noise, "
        "exposure gap within MATCHING_GATE_EXPOSURE_MARGIN); serve it if it passes. The verdict is stored on the run.",
    ),
) -> None:
    """Recompute every top-K list in both directions and publish the run atomically.

    The nightly routine is `matching train` (a candidate) then `matching refresh --auto-promote`."""
    from matching.batch import RefreshInProgress
    from matching.batch import refresh as run_refresh

    settings = get_settings()
    gate_record = _gate(settings) if auto_promote else None
    if scheduler:
        settings = settings.model_copy(update={"dask_scheduler": scheduler})
    if backend not in ("local", "dask"):
        raise typer.BadParameter("backend must be local or dask", param_hint="--backend")
    if workers and settings.dask_scheduler:
        raise typer.BadParameter("give either --workers (a local Dask cluster) or a scheduler, not both", param_hint="--workers")
    if workers:
        backend = "dask"
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        summary = run_refresh(settings, backend=backend, n_jobs=jobs, progress=progress, dask_workers=workers or 2, gate=gate_record)
    except RefreshInProgress as exc:
        print(f"refresh not started: {exc}", file=sys.stderr)
        raise typer.Exit(code=3) from None
    console.print(
        f"run {summary.run_id} published: {summary.n_participants} participants, "
        f"{summary.n_openings} openings with candidates, {summary.n_pairs} listed matches, "
        f"{summary.seconds:.1f} s ({summary.backend})"
    )
    figures = summary.extra.get("congestion")
    if figures:
        _print_congestion(figures, summary.extra.get("allocation_seconds", 0.0))


def _alloc_setting(figures: dict) -> str:
    if figures.get("alloc_mode", "flow") == "flow":
        return f"at most {figures['alloc_factor']:g} lists per free place"
    out = f"expected starts priced above {figures['alloc_start_factor']:g} × free places, strength {figures['alloc_strength']:g}"
    if "alloc_tail" in figures:
        out += f", tail {figures['alloc_tail']}, {figures['alloc_passes']} pass(es)"
    return out


def _print_congestion(figures: dict, seconds: float) -> None:
    """Issue 14's congestion figures, personal lists against recommended-now lists."""
    b, a = figures["before"], figures["after"]
    console.print(
        f"congestion (personal top 10 → recommended now, {_alloc_setting(figures)}, allocation {seconds:.2f} s):\n"
        f"  openings listed {b['openings_listed']} → {a['openings_listed']}, "
        f"congested (> 5 × free places) {b['share_openings_congested']:.1%} → {a['share_openings_congested']:.1%}\n"
        f"  participants whose top 10 is only congested openings {b['share_participants_only_congested']:.1%} → "
        f"{a['share_participants_only_congested']:.1%}\n"
        f"  Gini of exposure {b['gini_exposure']:.3f} → {a['gini_exposure']:.3f}; "
        f"mean exposure top 3 {b['mean_exposure_top3']:.2f}, top 10 {b['mean_exposure_top10']:.2f} → {a['mean_exposure_top10']:.2f}; "
        f"free places {b['free_places']}"
    )
    if "in_flight" in figures:
        f = figures["in_flight"]
        console.print(
            f"  chains in flight: {f['expected_starts']:.1f} expected starts on {f['openings']} open openings, "
            f"{f['places_spoken_for']:.1f} of the free places spoken for"
        )
    if "held_back" in figures:
        h = figures["held_back"]
        console.print(
            f"  no room now (held back from every recommended-now list): {h['openings']} openings; "
            f"{h['participants_without_room']} participants with nothing with room nearby now"
        )
    for office, f in b["offices"].items():
        g = a["offices"].get(office, {})
        console.print(
            f"  {office}: congested {f['share_openings_congested']:.1%} → {g.get('share_openings_congested', 0):.1%}, "
            f"only congested {f['share_participants_only_congested']:.1%} → {g.get('share_participants_only_congested', 0):.1%}, "
            f"Gini {f['gini_exposure']:.3f} → {g.get('gini_exposure', 0):.3f}"
        )


@app.command()
def token(
    role: str = typer.Option(..., help="adviser | liaison | batch | admin"),
    office: Annotated[list[str] | None, typer.Option("--office", help="office id; repeat for several")] = None,
    sub: str = typer.Option(None, help="who the token is for (audit log); default role@dev"),
    ttl: int = typer.Option(None, help="minutes until expiry"),
) -> None:
    """Print a signed JWT (development secret unless MATCHING_SECRET_KEY is set)."""
    from api.auth import create_token

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    if not office and role in ("adviser", "liaison"):
        # Office-scoped roles see only their offices' participants and openings: none at all here.
        print(
            f"warning: a {role} token without --office covers no office and will see nothing; add --office ID (GET /v1/offices lists them)",
            file=sys.stderr,
        )
    try:
        print(create_token(sub or f"{role}@dev", role, list(office or []), get_settings(), ttl_minutes=ttl))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from None


@app.command()
def titles(
    file: Annotated[str, typer.Argument(help="one title per line (UTF-8); - reads stdin")],
    top: Annotated[int, typer.Option("--top", min=1, max=50, help="codes per title")] = 5,
) -> None:
    """Rank STYRK-08 codes for free-text titles: CSV `title,rank,code,score` on stdout.

    Every non-blank line gets exactly --top rows, rank 1 best; score is the 0-1 confidence.
    Blank lines are skipped. Rank 1 with a score below the acceptance threshold (0.15) is
    what the engine would treat as unrecognised: a suggestion, not an answer.
    """
    import csv

    from matching.csvsafe import safe_cell
    from matching.taxonomy.titles import top_titles

    try:
        if file == "-":
            text = sys.stdin.read()
        else:
            text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"titles: no such file: {file}", file=sys.stderr)
        raise typer.Exit(code=2) from None
    except UnicodeDecodeError as exc:
        print(f"titles: {file} is not UTF-8 text ({exc.reason} at byte {exc.start})", file=sys.stderr)
        raise typer.Exit(code=2) from None
    except OSError as exc:  # a directory, no permission, …
        print(f"titles: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        raise typer.Exit(code=2) from None
    # One title per *line*: split on newlines only (str.splitlines also splits on U+2028 etc.).
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["title", "rank", "code", "score"])
    chunk = 2000
    for start in range(0, len(lines), chunk):
        batch = lines[start : start + chunk]
        for title, ranked in zip(batch, top_titles(batch, top)):
            for rank, (code, score) in enumerate(ranked, start=1):
                out.writerow([safe_cell(title), rank, code, f"{score:.4f}"])
    sys.stdout.flush()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (every command does this on start) and say where it is."""
    from matching.store.db import current_revision, head_revision

    engine = _db(get_settings())  # runs the pending migrations
    Console().print(f"schema at revision {current_revision(engine)} (head {head_revision()})")


def default_workers() -> int:
    """One server worker per core this process may use (ranking is CPU-bound under the GIL)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


@app.command()
def serve(
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
    workers: int | None = typer.Option(
        None,
        min=1,
        help="worker processes (default: one per core). Several: gunicorn forks them after building the live snapshot, "
        "so they share it (api/serve.py); /metrics adds up all of them",
    ),
) -> None:
    """Serve the HTTP API: uvicorn in this process (one worker) or gunicorn with uvicorn workers."""
    import uvicorn

    settings = get_settings()
    _db(settings)  # pending schema migrations run here, once, before any worker starts
    workers = workers or default_workers()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers write their metrics here and /metrics adds them all up (api/metrics.py); a fresh,
        # empty directory per server, removed when it stops. Set before any worker imports prometheus_client.
        metrics_dir = tempfile.mkdtemp(prefix="matching-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    host, port = host or settings.host, port or settings.port
    try:
        if workers == 1:
            uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info", access_log=settings.access_log)
        else:
            try:
                from api import serve as multi
            except ImportError:  # pragma: no cover - no gunicorn (Windows): workers without a shared snapshot
                uvicorn.run(
                    "api.app:create_app",
                    factory=True,
                    host=host,
                    port=port,
                    workers=workers,
                    log_level="info",
                    access_log=settings.access_log,
                )
            else:
                multi.run(settings, host, port, workers)
    finally:
        if metrics_dir:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def run(
    data: Path = typer.Option(DEFAULT_FIXTURES, help="data directory to load"),
    serve_api: bool = typer.Option(True, "--serve/--no-serve"),
) -> None:
    """Everything `make run` does: create the DB, load data, train if no model, refresh, serve."""
    from matching.batch import RefreshInProgress
    from matching.batch import refresh as run_refresh
    from matching.scoring import ScoringModel

    settings = get_settings()
    counts = _load_or_exit(settings, data)
    console.print(f"database {settings.database_url}: loaded " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    try:
        ScoringModel.load(settings.model_dir)
    except FileNotFoundError:
        console.print("no trained model found; training one from the loaded outcomes")
        train(
            holdout_frac=0.25,
            l2=1.0,
            smooth=None,
            negatives=None,
            negative_weight=0.25,
            auto_correction=True,
            promote=False,
            by=None,
            reason=None,
        )  # served: none was
    try:
        summary = run_refresh(settings, progress=True)
    except RefreshInProgress as exc:
        print(f"refresh not started: {exc}", file=sys.stderr)
        raise typer.Exit(code=3) from None
    console.print(f"run {summary.run_id} published: {summary.n_participants} participants, {summary.n_pairs} matches")
    if not serve_api:
        return
    from api.auth import create_token
    from matching.store import participants

    with _db(settings).connect() as conn:
        found = participants.first(conn)
    if found is None:
        print("no participants loaded; nothing to serve an example for", file=sys.stderr)
        raise typer.Exit(code=2)
    pid, office_id = found
    tok = create_token("adviser@dev", "adviser", [office_id], settings)
    base = f"http://{settings.host}:{settings.port}"
    console.print(
        f"\nWorkbench on {base}/  (sign in at {base}/signin"
        + (
            f": development sign-in — choose a role and office, e.g. adviser, {office_id}, veileder-{office_id.removeprefix('nav-')}-1)"
            if settings.environment == "development"
            else ": paste a token from `matching token`)"
        )
    )
    console.print(f"API on {base}  (docs: {base}/docs)")
    console.print(f"Get a token:  .venv/bin/matching token --role adviser --office {office_id}")
    console.print("Try:")
    print(
        f"  curl -s -H {shlex.quote('Authorization: Bearer ' + tok)} '{base}/v1/participants/{pid}/matches?limit=5&lang=en'\n", flush=True
    )
    serve(host=None, port=None, workers=None)


if __name__ == "__main__":
    app()
