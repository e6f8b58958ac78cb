"""The rows an employer's contact history is built from (`matching.contacts.EmployerHistory`):
employers with their office and contact cap, and the outcome events on their openings that
count — contacts, answers, suggestions, invitations."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, select

from matching.contacts import ANSWERS, INVITES, EmployerHistory
from matching.store import tables as t

#: Outcome events the history reads (every other event is left in the database).
EVENTS = tuple(sorted({"contacted", "suggested", *ANSWERS, *INVITES}))


def history(conn: Connection, *, orgnrs: Iterable[str] | None = None, offices: Iterable[str] | None = None) -> EmployerHistory:
    """The contact history of every employer — or of these employers, or of every employer of
    these offices (responsiveness is smoothed towards the office, so a part of the snapshot
    reads its employers' whole offices: `offices_of`)."""
    e, o, oc = t.employers, t.openings, t.outcomes
    where = []
    if orgnrs is not None:
        where.append(e.c.orgnr.in_(sorted(set(orgnrs))))
    if offices is not None:
        where.append(e.c.office_id.in_(sorted(set(offices))))
    emp_rows = conn.execute(select(e.c.orgnr, e.c.office_id, e.c.max_contacts_per_month).where(*where).order_by(e.c.orgnr)).all()
    employers = pd.DataFrame.from_records(emp_rows, columns=["orgnr", "office_id", "max_contacts_per_month"])
    if employers.empty:
        return EmployerHistory.empty()
    stmt = (
        select(o.c.orgnr, oc.c.participant_id, oc.c.opening_id, oc.c.event, oc.c.occurred_at)
        .join(o, o.c.opening_id == oc.c.opening_id)
        .join(e, e.c.orgnr == o.c.orgnr)
        .where(oc.c.event.in_(EVENTS), *where)
        .order_by(oc.c.occurred_at, oc.c.event_id)
    )
    events = pd.DataFrame.from_records(conn.execute(stmt).all(), columns=["orgnr", "participant_id", "opening_id", "event", "occurred_at"])
    return EmployerHistory.from_frames(employers, events)


def offices_of(conn: Connection, orgnrs: Iterable[str]) -> list[str]:
    """The offices these employers belong to."""
    e = t.employers
    rows = conn.execute(select(e.c.office_id).where(e.c.orgnr.in_(sorted(set(orgnrs)))).distinct()).all()
    return sorted(r[0] for r in rows)
