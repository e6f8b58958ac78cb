"""Employer responsiveness: does the employer answer when NAV gets in touch, and invite?

Learned from the outcome history (`matching.contacts.EmployerHistory`): only from events
before the pair's day (today when ranking, the first suggestion's day in training), over the
year up to the office's latest event before it (`EmployerHistory.horizon`), the share of
contacts the employer answered and its interviews per suggestion. Both are smoothed towards
the employer's office (empirical Bayes: a beta prior worth PRIOR_CONTACTS contacts, resp.
PRIOR_SUGGESTIONS suggestions, at the office's pooled rate, itself smoothed towards a base
rate), and a level is left only with the evidence to back it: fewer than MIN_CONTACTS
contacts, or a posterior within Z posterior standard deviations of the office, is the
neutral level.

Two levels, so that little history is never a penalty: *less responsive than most* — the
answered share credibly below the office's, or (with at least MIN_SUGGESTIONS suggestions)
the interviews per suggestion credibly below, either only with MIN_CONTACTS contacts — and neutral (everyone else: contribution 0).
A level "usually answers" above neutral was tried (2026-11-30): it learned small weights
(+0.1, +0.19 against −1.07 for the level below), and those uneven steps made the fit's step
smoothing (`scoring.fit(smooth=…)`, chosen on validation) fall to 0, which raised tied list
entries from 9.2 % to 11.7 % (`benchmarks/list_quality.py`); the reason still says "usually
answers: 7 of 9" where that is what the history shows. Levels are computed once per
employer and day (a batch ranks on one day), then gathered per pair.
"""

from __future__ import annotations

import numpy as np

from matching.contacts import EmployerHistory
from matching.criteria.base import Criterion, Levels, PairValues, Values, t
from matching.pairs import Pairs

RESPONSIVENESS = Levels.categories("responsiveness", 2, neutral=1)
LOWER, NEUTRAL = range(2)

#: Fewer contacts than this in the window: the neutral level, whatever the share.
MIN_CONTACTS = 4
#: Fewer suggestions than this: interviews per suggestion say nothing.
MIN_SUGGESTIONS = 6
#: Prior strength (pseudo-contacts / pseudo-suggestions) at the office's rate.
PRIOR_CONTACTS = 8.0
PRIOR_SUGGESTIONS = 10.0
#: Pseudo-counts pulling an office's rate towards the base rate (few contacts in an office).
OFFICE_PRIOR = 20.0
#: Rates assumed for an office without history.
BASE_ANSWER_RATE = 0.8
BASE_INVITE_RATE = 0.15
#: Posterior standard deviations a rate must be from the office's to leave the neutral level.
Z = 1.0
#: A reason says "usually answers" when the posterior share is at most this far below the office's.
TOLERANCE = 0.05


def _posterior(k: np.ndarray, n: np.ndarray, prior: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of Beta(prior·weight + k, (1 − prior)·weight + n − k), k at
    most n (an interview in the window can follow a suggestion from before it)."""
    k = np.minimum(k, n)
    a = prior * weight + k
    b = (1.0 - prior) * weight + (n - k)
    mean = a / (a + b)
    return mean, np.sqrt(mean * (1.0 - mean) / (a + b + 1.0))


def office_rate(k_office, n_office, base: float) -> np.ndarray:
    """The office's pooled rate, smoothed towards `base` (an office with little history). Only
    the office's own employers count, so a part of the snapshot that reads its employers'
    offices (`store.snapshot.load_world`) gets the same rate as the whole snapshot."""
    rate = (np.asarray(k_office, float) + base * OFFICE_PRIOR) / (np.asarray(n_office, float) + OFFICE_PRIOR)
    return np.clip(rate, 0.01, 0.99)


def _assessed(v: Values) -> dict[str, np.ndarray]:
    """Per entry: enough contacts / suggestions, answers / invites credibly below the office's,
    and answering at about the office's rate or better."""
    contacts, answered = np.asarray(v["contacts"], float), np.asarray(v["answered"], float)
    suggested, invited = np.asarray(v["suggested"], float), np.asarray(v["invited"], float)
    answer_prior, invite_prior = np.asarray(v["office_answer_rate"], float), np.asarray(v["office_invite_rate"], float)
    mean, sd = _posterior(answered, contacts, answer_prior, PRIOR_CONTACTS)
    i_mean, i_sd = _posterior(invited, suggested, invite_prior, PRIOR_SUGGESTIONS)
    enough = contacts >= MIN_CONTACTS
    return {
        "enough": enough,
        "answers_below": enough & (mean + Z * sd < answer_prior),
        "invites_below": enough & (suggested >= MIN_SUGGESTIONS) & (i_mean + Z * i_sd < invite_prior),
        "usually": enough & (mean >= answer_prior - TOLERANCE),
    }


def level_of(v: Values) -> np.ndarray:
    """The level of each entry's counts and office rates (the values a reason quotes)."""
    a = _assessed(v)
    return np.where(a["answers_below"] | a["invites_below"], LOWER, NEUTRAL).astype(np.int64)


def _per_employer(history: EmployerHistory, day: int) -> Values:
    """Every employer's values on `day` (cached with the history's counts)."""
    hit = history.derived.get(("responsiveness", day))
    if hit is None:
        c = history.counts_on(day)
        hit = {
            "contacts": c["contacts"],
            "answered": c["answered"],
            "suggested": c["suggested"],
            "invited": c["invited"],
            "office_answer_rate": office_rate(c["office_answered"], c["office_contacts"], BASE_ANSWER_RATE),
            "office_invite_rate": office_rate(c["office_invited"], c["office_suggested"], BASE_INVITE_RATE),
        }
        hit["level"] = level_of(hit)
        history.derived[("responsiveness", day)] = hit
    return hit


_NO_EMPLOYER = {
    "contacts": 0,
    "answered": 0,
    "suggested": 0,
    "invited": 0,
    "office_answer_rate": BASE_ANSWER_RATE,
    "office_invite_rate": BASE_INVITE_RATE,
    "level": NEUTRAL,
}


def _gather(pairs: Pairs, names: tuple[str, ...]) -> Values:
    """Per pair: its employer's values on the pair's day, one distinct day at a time."""
    openings = pairs.world.openings
    history, row = openings.history, openings.employer_row[pairs.o]
    out = {k: np.full(len(pairs), _NO_EMPLOYER[k], dtype=float if "rate" in k else np.int64) for k in names}
    if not len(pairs) or not len(history):
        return out
    as_of = pairs.as_of
    single = as_of.min() == as_of.max()
    days = [int(as_of[0])] if single else np.unique(as_of).tolist()
    for day in days:
        sel = slice(None) if single else np.flatnonzero(as_of == day)
        r = row[sel]
        known = r >= 0
        per = _per_employer(history, day)
        for k in names:
            out[k][sel] = np.where(known, per[k][np.maximum(r, 0)], _NO_EMPLOYER[k])
    return out


def _level(pairs: Pairs) -> np.ndarray:
    return _gather(pairs, ("level",))["level"]


_VALUES = ("contacts", "answered", "suggested", "invited", "office_answer_rate", "office_invite_rate")


def _values(pairs: Pairs) -> Values:
    return _gather(pairs, _VALUES)


def _text(level: int, v: PairValues, lang: str) -> str:
    counts = {k: int(v[k]) for k in ("contacts", "answered", "suggested", "invited")}
    a = {k: bool(x) for k, x in _assessed({k: np.asarray([v[k]]) for k in _VALUES}).items()}
    if level == LOWER:
        return t("responsiveness.seldom" if a["answers_below"] else "responsiveness.few_invites", lang, **counts)
    if not a["enough"]:
        return t("responsiveness.little_history", lang, **counts)
    return t("responsiveness.usually" if a["usually"] else "responsiveness.as_office", lang, **counts)


def _shown(v: PairValues, lang: str) -> dict[str, int | float]:
    return {
        **{k: int(v[k]) for k in ("contacts", "answered", "suggested", "invited")},
        "office_answer_rate": round(float(v["office_answer_rate"]), 2),
        "office_invite_rate": round(float(v["office_invite_rate"]), 2),
    }


responsiveness = Criterion(
    name="responsiveness",
    levels=RESPONSIVENESS,
    level=_level,
    values=_values,
    reason=_text,
    description="share of contacts the employer answered and its interviews per suggestion in the past year, smoothed towards its office",
    # Little history says nothing about the employer: it still scores (neutral), but is no headline.
    uninformative=lambda v: int(v["contacts"]) < MIN_CONTACTS,
    level_of_values=level_of,
    shown_values=_shown,
    opening_only=True,
)

CRITERIA = [responsiveness]
