"""Reading a snapshot (`World`) from the database: the one place the domain core's data
comes from SQL. The domain modules (world, criteria, scoring, engine, candidates) import no
SQLAlchemy (tests/test_layers.py)."""

from __future__ import annotations

import json

import orjson
import pandas as pd
from sqlalchemy import JSON, Connection, Text, cast, select

from matching.store import contacts
from matching.store import tables as t
from matching.world import Openings, Participants, World, gc_paused, participants_from_records, skill_vocabulary


def _frame(conn: Connection, stmt) -> pd.DataFrame:
    """Rows straight into columns (a dict per row cost as much as decoding the JSON).

    JSON columns are read as text and decoded a whole column per ``json.loads`` call: one
    call per value (the JSON type's result processor) was most of a 300k snapshot's load."""
    as_text = [c.name for c in stmt.selected_columns if isinstance(c.type, JSON)]
    stmt = stmt.with_only_columns(*(cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in stmt.selected_columns))
    result = conn.execute(stmt)
    cols = list(result.keys())
    rows = result.all()
    if not rows:
        return pd.DataFrame()
    # Column by column (zip over the rows, in C) rather than DataFrame.from_records, which
    # probes every Row for attributes it doesn't have (~2 s of CPU at 300k).
    frame = pd.DataFrame(
        {name: pd.Series(values, dtype=None if name not in as_text else object) for name, values in zip(cols, map(list, zip(*rows)))}
    )
    for name in as_text:
        frame[name] = pd.Series(_decode_column(frame[name].tolist()), index=frame.index, dtype=object)
    return frame


def _decode_column(texts: list) -> list:
    """Many JSON texts decoded in one call; an already decoded value (a driver that parses JSON
    itself) is kept as it is."""
    if set(map(type, texts)) <= {str}:  # every value a text (in C: a generator took ~1 s at 300k)
        return orjson.loads("[" + ",".join(texts) + "]")  # a quarter faster than json at 300k
    return [json.loads(x) if isinstance(x, str) else x for x in texts]


def openings_frame(conn: Connection, opening_ids: list[str] | None = None) -> pd.DataFrame:
    o, e = t.openings, t.employers
    stmt = (
        select(
            o,
            e.c.name.label("employer_name"),
            e.c.nace_section,
            e.c.adaptations_offered.label("employer_adaptations"),
            e.c.inclusive_workplace_agreement,
            e.c.past_trial_placements,
            e.c.past_hires_after_trial,
        )
        .join(e, e.c.orgnr == o.c.orgnr)
        .order_by(o.c.opening_id)
    )
    if opening_ids is not None:
        stmt = stmt.where(o.c.opening_id.in_(opening_ids))
    frame = _frame(conn, stmt)
    if frame.empty:
        cols = [c.name for c in o.columns] + [
            "employer_name",
            "nace_section",
            "employer_adaptations",
            "inclusive_workplace_agreement",
            "past_trial_placements",
            "past_hires_after_trial",
        ]
        frame = pd.DataFrame(columns=cols)
    frame["adaptations_all"] = [
        sorted(set(a or []) | set(b or [])) for a, b in zip(frame["adaptations_offered"], frame["employer_adaptations"])
    ]
    return frame


def participants_frame(conn: Connection, participant_ids: list[str] | None = None) -> pd.DataFrame:
    stmt = select(t.participants).order_by(t.participants.c.participant_id)
    if participant_ids is not None:
        stmt = stmt.where(t.participants.c.participant_id.in_(participant_ids))
    frame = _frame(conn, stmt)
    if frame.empty:
        return participants_from_records([]).frame
    return frame.reset_index(drop=True)


def load_world(
    conn: Connection,
    participant_ids: list[str] | None = None,
    opening_ids: list[str] | None = None,
    skill_vocab: dict[str, int] | None = None,
) -> World:
    """The snapshot: every participant and opening — or only those with these ids (a stored
    list's rows, read by id through the very same encoding). A part of the snapshot must be
    given the whole snapshot's `skill_vocab` (`skill_vocab_of`): free-text skills are matched
    fuzzily against it, so a smaller vocabulary could match them differently. Every other
    per-pair quantity — hard constraints, levels, the values a reason quotes — reads only its
    own pair's rows, but for the employers' contact history, read for their whole offices
    (responsiveness is smoothed towards the office). Read with the garbage collector paused
    (`gc_paused`)."""
    with gc_paused():
        return _load_world(conn, participant_ids, opening_ids, skill_vocab)


def _load_world(
    conn: Connection, participant_ids: list[str] | None, opening_ids: list[str] | None, skill_vocab: dict[str, int] | None
) -> World:
    participants = Participants(participants_frame(conn, participant_ids))
    frame = openings_frame(conn, opening_ids)
    if opening_ids is None:
        history = contacts.history(conn)
    else:  # responsiveness is smoothed towards the office: read the employers' whole offices
        history = contacts.history(conn, offices=contacts.offices_of(conn, frame["orgnr"].tolist()))
    openings = Openings(frame, history)
    vocab = skill_vocabulary(openings.frame) if skill_vocab is None else skill_vocab
    return World(participants, openings, vocab)


def skill_vocab_of(conn: Connection) -> dict[str, int]:
    """The whole snapshot's skill vocabulary (what `load_world(conn)` computes), read from the
    openings' skill columns only."""
    o = t.openings
    frame = _frame(conn, select(o.c.required_skills, o.c.optional_skills))
    return skill_vocabulary(frame)
