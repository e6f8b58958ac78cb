"""Employers' contact history as arrays: contact caps and responsiveness (issue 14).

NAV staff contacting an employer about a participant is the outcome event ``contacted`` on one
of the employer's openings. Two things follow from that history, both computed here on arrays
(no SQL: `matching.store.contacts` reads the rows, the snapshot holds them as an
:class:`EmployerHistory`):

* **Contact caps.** An employer may accept at most ``max_contacts_per_month`` contacts per
  calendar month; :func:`remaining_contacts` gives every employer's remaining contacts on a
  day — the one function the capacity-aware allocation and the API use.
* **Responsiveness** (`matching.criteria.responsiveness`): the share of contacts the employer
  answered and the interviews per suggestion, over the year up to the office's latest event
  before a day (`EmployerHistory.horizon`) and only from events *before* that day (a training
  pair is featured as of its first suggestion, so its own outcome never counts), smoothed
  towards the employer's office (empirical Bayes, a beta prior).

A contact is *answered* when an employer event (interview, trial started, hired, declined by
the employer) follows it on the same pair. A contact younger than ANSWER_GRACE_DAYS and not yet
answered is not counted either way: the employer still has time to answer. Both are measured
against the office's latest recorded event before the day rather than the day itself, so an
unchanged history gives the same figures on every later day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Employer events that answer a contact.
ANSWERS = ("interview", "trial_started", "hired", "declined_by_employer")
#: Employer events that invite a participant (an interview, or straight into a trial).
INVITES = ("interview", "trial_started")
#: Days after a contact before silence counts as "not answered".
ANSWER_GRACE_DAYS = 21
#: The window responsiveness is measured over (days before the day asked about).
WINDOW_DAYS = 365
NEVER = np.iinfo(np.int64).max // 4
_SPAN = 1 << 22  # > any date ordinal (9999-12-31 is 3,652,059)


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class EmployerHistory:
    """Employers (sorted by orgnr) with their office and cap, and their contact events.

    Days are date ordinals. ``contact_*`` hold one entry per ``contacted`` event (its employer
    row, its day, the day it was answered or NEVER); ``suggest_*`` and ``invite_*`` one per
    ``suggested`` and per interview / trial-started event."""

    orgnrs: np.ndarray
    office: np.ndarray  # office code per employer (index into `offices`)
    offices: tuple[str, ...]
    cap: np.ndarray  # contacts per calendar month, float; inf = no cap
    contact_emp: np.ndarray
    contact_day: np.ndarray
    answer_day: np.ndarray
    suggest_emp: np.ndarray
    suggest_day: np.ndarray
    invite_emp: np.ndarray
    invite_day: np.ndarray
    #: Distinct (office, day) of every event read, as office · _SPAN + day, sorted (`horizon`).
    office_days: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _by_day: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)
    #: What a criterion derives from one day's counts, by (name, day): dropped with them.
    derived: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.orgnrs)

    @classmethod
    def empty(cls) -> EmployerHistory:
        return cls.from_frames(pd.DataFrame(columns=["orgnr", "office_id", "max_contacts_per_month"]), None)

    @classmethod
    def from_frames(cls, employers: pd.DataFrame, events: pd.DataFrame | None) -> EmployerHistory:
        """`employers`: orgnr, office_id, max_contacts_per_month (None/NaN: no cap);
        `events`: orgnr, participant_id, opening_id, event, occurred_at (outcome rows on the
        employers' openings; events of other employers are ignored)."""
        emp = employers.sort_values("orgnr", kind="stable").reset_index(drop=True)
        orgnrs = emp["orgnr"].astype(str).to_numpy(dtype=object)
        offices = tuple(sorted(set(emp["office_id"].astype(str))))
        office = _ints(np.searchsorted(np.array(offices, dtype=object), emp["office_id"].astype(str).to_numpy(dtype=object)))
        cap = pd.to_numeric(emp["max_contacts_per_month"], errors="coerce").to_numpy(dtype=float)
        cap = np.where(np.isnan(cap), np.inf, cap)
        empty = np.zeros(0, dtype=np.int64)
        office_days = np.zeros(0, dtype=np.int64)
        arrays = dict.fromkeys(
            ("contact_emp", "contact_day", "answer_day", "suggest_emp", "suggest_day", "invite_emp", "invite_day"), empty
        )
        if events is not None and len(events) and len(orgnrs):
            ev = events.loc[events["orgnr"].isin(set(orgnrs))]
            ev = ev.assign(
                emp=np.searchsorted(orgnrs, ev["orgnr"].to_numpy(dtype=object)),
                day=[d.toordinal() for d in pd.to_datetime(ev["occurred_at"]).dt.date],
            )
            arrays.update(_contacts(ev))
            office_days = np.unique(office[_ints(ev["emp"])] * _SPAN + _ints(ev["day"]))
            for name, kinds in (("suggest", ("suggested",)), ("invite", INVITES)):
                sel = ev.loc[ev["event"].isin(kinds)]
                arrays[f"{name}_emp"], arrays[f"{name}_day"] = _ints(sel["emp"]), _ints(sel["day"])
        return cls(
            orgnrs,
            office,
            offices,
            cap,
            contact_emp=arrays["contact_emp"],
            contact_day=arrays["contact_day"],
            answer_day=arrays["answer_day"],
            suggest_emp=arrays["suggest_emp"],
            suggest_day=arrays["suggest_day"],
            invite_emp=arrays["invite_emp"],
            invite_day=arrays["invite_day"],
            office_days=office_days,
        )

    def rows_of(self, orgnrs) -> np.ndarray:
        """Employer row of each orgnr; -1 for an employer without a row here."""
        orgnrs = np.asarray(orgnrs, dtype=object)
        if not len(self.orgnrs):
            return np.full(len(orgnrs), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.orgnrs, orgnrs), len(self.orgnrs) - 1)
        return np.where(self.orgnrs[pos] == orgnrs, pos, -1).astype(np.int64)

    # ------------------------------------------------------------------- counts on one day

    def horizon(self, day: int) -> np.ndarray:
        """Per office: the day of its employers' latest event before `day` (`day` − 1 when
        there is none). Responsiveness is measured up to it, not up to `day`: on an unchanged
        history the figures are the same whichever later day asks (a stored list's quoted
        values hold until the next run), and an office's own events decide it (a part of the
        snapshot that reads whole offices gets the same figures)."""
        n_offices = len(self.offices)
        keys = self.office_days
        pos = np.searchsorted(keys, np.arange(n_offices, dtype=np.int64) * _SPAN + day) - 1
        prev = keys[np.maximum(pos, 0)] if len(keys) else np.zeros(n_offices, dtype=np.int64)
        found = (pos >= 0) & (prev // _SPAN == np.arange(n_offices))
        return np.where(found, prev % _SPAN, day - 1)

    def counts_on(self, day: int) -> dict[str, np.ndarray]:
        """Per employer, over the WINDOW_DAYS up to its office's `horizon` (events on `day` or
        later never count): ``contacts`` (answered, or at least ANSWER_GRACE_DAYS older than
        the horizon), ``answered``, ``suggested``, ``invited``; and the same summed over the
        employer's office (``office_contacts`` …). Cached per day: a batch ranks everyone on
        one day."""
        hit = self._by_day.get(day)
        if hit is not None:
            return hit
        n = len(self)
        last = self.horizon(day)[self.office] if n else np.zeros(0, dtype=np.int64)

        def window(emp: np.ndarray, days: np.ndarray) -> np.ndarray:
            return (days > last[emp] - WINDOW_DAYS) & (days < day)

        in_window = window(self.contact_emp, self.contact_day)
        answered = in_window & (self.answer_day < day)
        due = answered | (in_window & (self.contact_day <= last[self.contact_emp] - ANSWER_GRACE_DAYS))
        out = {
            "contacts": np.bincount(self.contact_emp[due], minlength=n),
            "answered": np.bincount(self.contact_emp[answered], minlength=n),
            "suggested": np.bincount(self.suggest_emp[window(self.suggest_emp, self.suggest_day)], minlength=n),
            "invited": np.bincount(self.invite_emp[window(self.invite_emp, self.invite_day)], minlength=n),
        }
        n_offices = len(self.offices)
        for key in ("contacts", "answered", "suggested", "invited"):
            per_office = np.bincount(self.office, weights=out[key], minlength=n_offices)
            out[f"office_{key}"] = per_office[self.office].astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        if len(self._by_day) > 64:  # training asks about many days; keep memory bounded
            self._by_day.clear()
            self.derived.clear()
        self._by_day[day] = out
        return out

    def contacts_in_month(self, day: int) -> np.ndarray:
        """Per employer: ``contacted`` events from the first of `day`'s calendar month up to and
        including `day`."""
        first = dt.date.fromordinal(day).replace(day=1).toordinal()
        sel = (self.contact_day >= first) & (self.contact_day <= day)
        return np.bincount(self.contact_emp[sel], minlength=len(self))


def _contacts(ev: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each ``contacted`` event with the day of the first employer answer on the same pair on or
    after it (NEVER if none)."""
    contacts = ev.loc[ev["event"] == "contacted", ["participant_id", "opening_id", "emp", "day"]]
    answers = ev.loc[ev["event"].isin(ANSWERS), ["participant_id", "opening_id", "day"]]
    if contacts.empty:
        z = np.zeros(0, dtype=np.int64)
        return {"contact_emp": z, "contact_day": z, "answer_day": z}
    contacts = contacts.reset_index(drop=True).reset_index(names="_row").sort_values("day", kind="stable")
    answers = answers.rename(columns={"day": "answered_on"}).assign(day=lambda f: f["answered_on"]).sort_values("day", kind="stable")
    joined = pd.merge_asof(contacts, answers, on="day", by=["participant_id", "opening_id"], direction="forward")
    joined = joined.sort_values("_row", kind="stable")
    answered = joined["answered_on"].to_numpy(dtype=float)
    return {
        "contact_emp": _ints(joined["emp"]),
        "contact_day": _ints(joined["day"]),
        "answer_day": np.where(np.isnan(answered), NEVER, answered).astype(np.int64),
    }


def remaining_contacts(history: EmployerHistory, day: dt.date | int) -> np.ndarray:
    """Each employer's remaining contacts on `day` (aligned with ``history.orgnrs``): its
    ``max_contacts_per_month`` minus the ``contacted`` events on its openings in `day`'s
    calendar month up to and including `day`, never below 0; ``inf`` for an employer without
    a cap. A new month starts from the full cap again."""
    ordinal = day.toordinal() if isinstance(day, dt.date) else int(day)
    used = history.contacts_in_month(ordinal)
    return np.where(np.isinf(history.cap), np.inf, np.maximum(history.cap - used, 0.0))


def capacity(history: EmployerHistory, day: dt.date) -> list[dict[str, object]]:
    """What liaison staff see of each employer's contact cap on `day` (aligned with
    ``history.orgnrs``): the month, the cap (None: none), the contacts used this month and
    what is left (None: no cap) — from :func:`remaining_contacts`."""
    used = history.contacts_in_month(day.toordinal())
    left = remaining_contacts(history, day)
    return [
        {
            "orgnr": str(orgnr),
            "month": day.strftime("%Y-%m"),
            "max_contacts_per_month": None if np.isinf(cap) else int(cap),
            "contacts_this_month": int(u),
            "remaining_contacts": None if np.isinf(rem) else int(rem),
        }
        for orgnr, cap, u, rem in zip(history.orgnrs, history.cap, used, left)
    ]
