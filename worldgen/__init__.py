"""A seeded, reproducible world: offices, employers, openings, participants and two years of
outcome history, in one of two scopes. ``trondheim`` is the fixtures' nine offices around
Trondheim (``matching generate data/fixtures --scope trondheim``); ``national`` is all of
Norway at any size (:mod:`.national`: NAV-office-like units, population-weighted places, NAV's
occupation frequencies, a history bounded in size). The same seed gives byte-identical files.

Geography, occupations, skills and adaptation codes are real reference data (postal codes
weighted by 2017 population, STYRK-08 with NAV's titles and 2017 demand survey, ESCO skills,
SN2007, NAV's tilretteleggingsbehov, a few real public employers); people, most employers and
all events are invented. Modules: :mod:`.catalogue` (what the world is made of),
:mod:`.world` (region, employers, openings), :mod:`.people` (participants), :mod:`.outcomes` (the behavioural model below).

Behavioural outcome model
-------------------------
The history is **not** produced by the engine's scoring formula (a model that relearns its
generator proves nothing). It is a separate simulation with its own functional form, hidden
factors the engine never sees, and noise:

1. **Suggestion rounds.** Each participant gets Poisson(2·λ·active share) rounds (λ =
   ``suggestions_per_participant``, default 8; active share = time from registration to the
   reference date over the window), on days uniform in that time. In a round the adviser looks
   at up to 36 openings open that day (12 jobs and 6 trial placements of the participant's
   office, 6 + 3 from anywhere, 9 in the occupation searched for this round, one of the
   wishes) and picks 1–3 (40/35/25 %) by a weighted draw without replacement, weight =
   exp(−km/15) × {6, 3, 1.5, 1} (opening's occupation is the same as / close / near to a
   wish, else) × 0.25 (trial for someone who wants a job; 0.5 the reverse) × 0.1 (required
   licence missing) × (1 + covered share of needs) × lognormal(0, 0.6). A pair is suggested
   once; most suggestions fail, so there are plenty of negatives.
2. **Hidden factors.** Participant motivation m = m₀ + d·(years since registration),
   m₀ ~ N(0,1), d ~ N(0, 0.6); employer responsiveness r ~ N(0,1) (it also drives, noisily, the
   employer's inclusive-workplace agreement, adaptations offered and recorded inclusion
   history, which the engine can see); pair chemistry ε ~ N(0, 0.5) shared by both sides; a
   travel tolerance in minutes = stated max km × (1.5 with a driving licence, 3.5 without) ×
   lognormal(0, 0.3) per participant.
3. **True commute** in minutes: road km = 1.3·km + 1; by car 8 + road at 50 km/h; without a
   driving licence 12 + road at 22 km/h, × 1.6 unless both ends are in Trondheim. Travel cost
   T = 0.035·max(0, min − 10) + 1.2·σ((min − tolerance)/5).
4. **Occupational fit** on the occupation structure: the level of the generator's own
   :mod:`worldgen.similarity` (same unit group / close / near / related / far, from shared
   STYRK-08 digits and a small hand-set affinity between catalogue occupations; never the
   engine's proximity table, so improving that table does not rewrite the fixtures). The
   participant's wish W: +1.2 same unit group as a wish, +0.6 close, +0.1 near, −0.9
   otherwise. The employer's view of competence C: 0.5·log1p(years in the unit group) +
   0.25·log1p(years in close occupations) + 0.1·log1p(years in near ones) + 0.3 if a wish is
   close or the same − 0.5 if neither a wish is near or closer nor any experience is near or
   closer. Skills S: share of the required skills held − 0.3 (+0.2 when none are
   required).
5. **Adaptations.** Each need neither the employer nor the opening offers costs a penalty by
   code (N = their sum): universal design 3.0 (deal-breaker); heavy lifting 2.5 in physically
   heavy occupations, else 0.3; ergonomics / work posture 0.9 heavy, else 0.6; "not full days"
   2.0 in a full-time opening, else 0.3; gradual increase 0.5 and close follow-up 0.6 (both
   halved in trial placements); fixed absence / flexible days 0.6; training / tasks 0.3; quiet
   environment 0.5; personal assistance 1.2; Norwegian speaking 0.4, reading 0.3, writing 0.3.
   The employer feels all of N at the interview stage only when the participant shares needs
   (else 0.3·N); undisclosed needs surface at work (−0.7·N at the hire stage).
6. **Requirements.** Language L = −0.7 per CEFR step below the opening's requirement (−0.3 in
   trial placements; halved where Norwegian-language adaptation is offered); education
   E = −0.4 per step below (jobs only); −3 if a required licence is missing. Hours H: for
   those who want part-time, −0.1 per weekly hour above their maximum up to 7.5 h (a step up,
   gradual increase) and −0.3 per hour beyond; for the others −0.15 per hour below full time
   (37.5) and a further −2.5 under 30 h/week (full-time seekers mostly turn part-time down).
   Availability A: −0.01 per day the participant's `available_from` falls after the opening's
   `start_date` (up to 28 days), and beyond four weeks a further −1.5 − 0.03 per day.
7. **The two sides.**
   U_p = 0.7·m + W + K + H + A − T − 0.3·N + ε, with K = −0.8 for a trial offered to someone who
   wants a job, −0.4 for a job offered to someone who wants a trial;
   U_e = 0.6·r + 0.25·agreement + 0.3·m + C + S + L + E + licence − N(disclosed) + 0.9·trial + ε;
   context c(day) = season (January +0.2, July −0.8, August +0.2, December −0.5) + 0.15 per
   year since the window opened (a tightening labour market).
8. **The funnel.** contacted ~ σ(3.2 + U_p), else declined by the participant; the employer
   answers the contact ~ σ(2.3 + 0.8·r + a), a ~ N(0, 1) its own habit (else nothing more
   happens: an unanswered contact); interview
   (job) or trial started ~ σ(0.5 + U_e + c) (0.5: answered contacts advance a little more
   often than all contacts did before silences were simulated, so the share of pairs reaching
   an interview stays ~15 %), else declined by the employer; hired ~
   σ(−0.2 + 0.6·U_e + 0.4·U_p − 0.7·N(undisclosed) + c) for jobs (else declined by the
   employer, or by the participant 25 %), and after the trial σ(−1.2 + 0.5·U_e + 0.5·U_p +
   0.6·r − 0.7·N(undisclosed) + c) (else the trial ends, ended by the participant with
   probability 0.8·σ(−U_p)). Steps follow 1–10 days (contact; a decline 1–14), 3–21 days
   (interview / trial; a decline 2–21), 3–30 days (hire) or 28–90 days (trial → hire) apart;
   nothing after the reference date is recorded (those chains are still running).
   15 % of the invented employers cap NAV's contacts (`max_contacts_per_month` 2–15); the
   simulation does not hold advisers to the caps. Caps, habits and answers are drawn from child
   streams of the seed (`Generator.spawn`), so every other draw is what it was before them.
9. **Capacity and leaving**, resolved in time order: a job opening takes ``positions`` hires,
   then it is filled (running chains end "stillingen ble besatt", nobody is suggested it
   again); a trial placement hosts ``positions`` concurrent trials (else "ingen ledig plass
   nå"); a hired participant leaves (running chains end "har fått jobb", no more
   suggestions). Job openings whose positions were all filled this way are ``filled``; other
   past openings are ``filled`` if someone was hired or started a trial there, else filled
   elsewhere (jobs, 55 %) or ``closed``.

Observable features are genuinely predictive (wished occupation, experience, distance,
adaptation coverage, Norwegian level, requirements), but motivation, responsiveness, travel
tolerance, chemistry and the binomial draws keep the problem far from perfectly predictable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matching import schema
from matching.csvsafe import safe_frame
from worldgen.catalogue import OFFICES
from worldgen.outcomes import advisers, simulate
from worldgen.people import birth_years, participants
from worldgen.world import OCC_CODES, employers, openings, region_postcodes

__all__ = ["Built", "build_world", "generate_world", "write_world", "REFERENCE_DATE", "SCOPES"]

REFERENCE_DATE = dt.date(2026, 11, 15)
#: Seeds the birth years' own random stream (with the world's seed).
BIRTH_YEAR_STREAM = 1_984
SCOPES = ("trondheim", "national")
#: Openings per employer when the employer count is not given (the fixtures' 420 / 75).
OPENINGS_PER_EMPLOYER = 420 / 75
#: A national history is as large as the full history of this many participants: enough to
#: train on, bounded at any size (the scale runs need participants and openings, not events).
HISTORY_PARTICIPANTS = 5_000


def _write(df: pd.DataFrame, path: Path, model: type[schema.BaseModel]) -> int:
    """CSV in the contract's column order: UTF-8, header, `\\n` line ends, floats without noise."""
    cols = list(model.model_fields)
    out = df.reindex(columns=cols)
    floats = tuple(col for col in cols if out[col].dtype.kind == "f")
    for col in floats:
        out[col] = [f"{v:g}" for v in out[col]]
    out = safe_frame(out.fillna(""), numeric=floats)  # no text cell a spreadsheet would run
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return len(out)


def generate_world(
    out_dir: Path,
    *,
    seed: int = 2013,
    n_participants: int = 180,
    n_employers: int | None = None,
    n_openings: int = 420,
    years: float = 2.0,
    reference_date: dt.date = REFERENCE_DATE,
    suggestions_per_participant: float | None = None,
    scope: str = "trondheim",
    outcomes: bool = True,
) -> dict[str, int]:
    """Write offices, employers, openings, participants and outcomes (.csv) into `out_dir`.

    Parameters
    ----------
    out_dir : directory to write into (created if missing; files are overwritten).
    seed : everything random derives from it; the same arguments give byte-identical files.
    n_participants, n_employers, n_openings : sizes (≥ 1 employer; default one per 5.6
        openings; in the Trondheim scope the first n/10 employers, up to 7, are real public
        employers of the region).
    years : length of the history window ending at `reference_date`.
    suggestions_per_participant : mean number of suggestion rounds per participant (each
        suggests 1–3 openings); the outcome volume scales with it. Default 8, in the national
        scope scaled down so the history stays that of ``HISTORY_PARTICIPANTS`` people.
    scope : "trondheim" (the fixtures' nine offices around Trondheim) or "national" (all of
        Norway, see :mod:`.national`).
    outcomes : False writes an empty outcome history (and every past opening filled
        elsewhere or closed), which is much faster at national scale.

    Returns
    -------
    Row counts per file, keyed by the file's stem.
    """
    w = build_world(
        seed=seed,
        n_participants=n_participants,
        n_employers=n_employers,
        n_openings=n_openings,
        years=years,
        reference_date=reference_date,
        suggestions_per_participant=suggestions_per_participant,
        scope=scope,
        outcomes=outcomes,
    )
    return write_world(w, Path(out_dir))


def write_world(w: Built, out_dir: Path) -> dict[str, int]:
    """The world's CSV files (the data contract's columns only), row counts by file stem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "offices": _write(w.offices, out_dir / "offices.csv", schema.Office),
        "employers": _write(w.employers, out_dir / "employers.csv", schema.Employer),
        "openings": _write(w.openings, out_dir / "openings.csv", schema.Opening),
        "participants": _write(w.participants, out_dir / "participants.csv", schema.Participant),
        "outcomes": _write(w.events, out_dir / "outcomes.csv", schema.Outcome),
    }


@dataclass
class Built:
    """A generated world in memory, hidden columns (``_``-prefixed) included: what
    `generate_world` writes, and what a replay of the behavioural model needs
    (benchmarks/allocation.py: `outcomes.resolve` on the same frames)."""

    offices: pd.DataFrame
    employers: pd.DataFrame
    openings: pd.DataFrame
    participants: pd.DataFrame
    events: pd.DataFrame
    accepted: np.ndarray  # per opening: hires / trial starts in the history
    region: pd.DataFrame
    span: int  # days from `start` to the reference date
    start: dt.date
    rng: np.random.Generator  # the generator's stream, after the world was drawn


def build_world(
    *,
    seed: int = 2013,
    n_participants: int = 180,
    n_employers: int | None = None,
    n_openings: int = 420,
    years: float = 2.0,
    reference_date: dt.date = REFERENCE_DATE,
    suggestions_per_participant: float | None = None,
    scope: str = "trondheim",
    outcomes: bool = True,
) -> Built:
    """The world `generate_world` writes (same arguments, same draws), in memory."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    if n_employers is None:
        n_employers = max(1, round(n_openings / OPENINGS_PER_EMPLOYER))
    if n_employers < 1 or n_openings < 0 or n_participants < 0:
        raise ValueError("need at least one employer and non-negative sizes")
    if suggestions_per_participant is None:
        suggestions_per_participant = 8.0
        if scope == "national":
            suggestions_per_participant *= min(1.0, HISTORY_PARTICIPANTS / max(n_participants, 1))
    rng = np.random.default_rng(seed)
    span = int(round(365 * years))
    start = reference_date - dt.timedelta(days=span)

    if scope == "national":
        from worldgen.national import national_region, opening_weights, participant_weights

        nation = national_region()
        region, office_list = nation.postcodes, nation.offices
        w_open = opening_weights()
        emps = employers(rng, region, n_employers, real=(), volume=dict(zip(OCC_CODES, w_open)))
        opens = openings(rng, emps, region, n_openings, span, start, occupation_weights=w_open)
        parts = participants(rng, region, n_participants, span, start, occupation_weights=participant_weights())
    else:
        region, office_list = region_postcodes(), OFFICES
        emps = employers(rng, region, n_employers)
        opens = openings(rng, emps, region, n_openings, span, start)
        parts = participants(rng, region, n_participants, span, start)
    if outcomes:
        events, accepted = simulate(rng, parts, opens, emps, region, span, start, suggestions_per_participant)
    else:
        events, accepted = pd.DataFrame(columns=list(schema.Outcome.model_fields)), np.zeros(len(opens), int)

    # Status at the reference date: filled through NAV, else still open, else filled elsewhere / closed.
    past = opens["_close"].to_numpy() <= span
    elsewhere = (opens["kind"].to_numpy() == "job") & (rng.random(len(opens)) < 0.55)
    full = accepted >= opens["positions"].to_numpy()
    job_full = full & (opens["kind"].to_numpy() == "job")
    opens["status"] = np.where(job_full | (past & ((accepted > 0) | elsewhere)), "filled", np.where(past, "closed", "open"))

    parts["adviser_id"] = advisers(parts)
    # A stream of its own: adding the birth year changed no other column or event.
    parts["birth_year"] = birth_years(np.random.default_rng([seed, BIRTH_YEAR_STREAM]), parts, start)
    return Built(pd.DataFrame([o.__dict__ for o in office_list]), emps, opens, parts, events, accepted, region, span, start, rng)


def write_outcomes(events: pd.DataFrame, out_dir: Path) -> int:
    """Only `outcomes.csv` (a replay's events, loaded into a database that holds the rest)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return _write(events, out_dir / "outcomes.csv", schema.Outcome)
