"""Match lists of a run, packed one row per list (the batch in `matching.batch` writes them).

A list row holds a subject's whole top-K: the other side's ids in rank order (JSON), the scores
(float64, exact) and every pair's criteria levels (uint8, in the run model's criteria order).
No rendered explanation is stored: the reasons are rendered when a list is read, from the
stored levels (so the contributions are the ones the run scored) and today's values. That
keeps a national run at ~350k small rows instead of ~17M rows with 1.5 KB of JSON each.

A participant's list also stores `quoted` (`pack_quoted`): every listed opening's kind, title,
employer name and orgnr, the earliest listed deadline, and the values the reasons of its first
pairs quote as the run computed them (`Settings.quoted_entries` of them), column by column
(criterion → value name → one entry per pair) — zstd-compressed JSON (zlib in older runs),
~2.35 KB a list nationally (673 MB a 300k run). While none of the list's rows changed since
the run (`versioning.changed_since`) these *are* today's values, and a read needs no World
(matching/serving.py). A run stores every participant it ranked, an empty list included, so
"no row" means "not in the run".

Only the run the `serving` pointer names is served; the previous one is kept for "new since
last run".
"""

from __future__ import annotations

import json
import threading
import zlib
from typing import Any, NamedTuple

import numpy as np
import orjson
import zstandard
from sqlalchemy import Connection, Table, and_, bindparam, select

from matching.store import tables as t


class Serving(NamedTuple):
    run_id: str
    previous_run_id: str | None


class Packed(NamedTuple):
    others: str
    scores: bytes
    levels: bytes


def pack(other_ids: list[str] | np.ndarray, scores: np.ndarray, levels: np.ndarray) -> Packed:
    """One list as stored (ids as a JSON array: any character in an id survives)."""
    ids = other_ids.tolist() if isinstance(other_ids, np.ndarray) else list(other_ids)
    return Packed(
        json.dumps(ids, ensure_ascii=False, separators=(",", ":")),
        np.ascontiguousarray(scores, dtype="<f8").tobytes(),
        np.ascontiguousarray(levels, dtype=np.uint8).tobytes(),
    )


def unpack(others: str, scores: bytes, levels: bytes) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids = json.loads(others)
    s = np.frombuffer(scores, dtype="<f8").astype(float)
    lv = np.frombuffer(levels, dtype=np.uint8)
    return ids, s, lv.reshape(len(ids), -1) if ids else lv.reshape(0, 0)


class Quoted(NamedTuple):
    """A list's stored quoted values (see the module docstring)."""

    values: dict[str, dict[str, list]]  # criterion → value name → one entry per pair of the first `explained`
    openings: dict[str, list]  # kind, title, employer_name, orgnr → one entry per listed opening
    until: int | None  # ordinal of the earliest listed deadline (None: no listed deadline)
    explained: int | None = None  # pairs with values, the first of the list (None: every pair; older runs)

    def n_explained(self) -> int:
        return len(self.openings.get("orgnr", ())) if self.explained is None else self.explained


#: A zstd frame starts with these bytes; runs before zstd stored zlib streams (they start 0x78).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_codecs = threading.local()  # zstd (de)compressors are not safe for concurrent use: one per thread


def _codec() -> threading.local:
    if not hasattr(_codecs, "compressor"):
        _codecs.compressor = zstandard.ZstdCompressor(level=1)
        _codecs.decompressor = zstandard.ZstdDecompressor()
    return _codecs


def pack_quoted(quoted: Quoted) -> bytes:
    # Written for every listed participant each night, read one list at a time. orjson: a tenth
    # of json.dumps' time on these number lists. zstd level 1: as small as zlib level 1 (about
    # a quarter of the JSON) in a quarter of its time — zlib was 12 % of a refresh's CPU.
    return pack_quoted_parts(*quoted)


def pack_quoted_parts(
    values: dict[str, dict[str, list]], openings: dict[str, list], until: int | None, explained: int | None = None
) -> bytes:
    """`pack_quoted(Quoted(values, openings, until, explained))`, the same bytes, without the
    NamedTuple and its `_asdict()` (the batch packs ~300k of these a night)."""
    fields = {"values": values, "openings": openings, "until": until, "explained": explained}  # Quoted's field order
    return _codec().compressor.compress(orjson.dumps(fields, option=orjson.OPT_SERIALIZE_NUMPY))


def unpack_quoted(blob: bytes | None) -> Quoted | None:
    if blob is None:
        return None
    blob = bytes(blob)
    raw = _codec().decompressor.decompress(blob) if blob.startswith(_ZSTD_MAGIC) else zlib.decompress(blob)
    return Quoted(**orjson.loads(raw))


class StoredList(NamedTuple):
    rows: list[dict[str, Any]]  # rank, the other side's id, score, levels
    quoted: Quoted | None  # None in runs before it was stored, and for opening lists


def serving(conn: Connection) -> Serving | None:
    """The served run and the one it replaced, or None before the first published run."""
    row = conn.execute(select(t.serving.c.run_id, t.serving.c.previous_run_id).where(t.serving.c.id == 1)).first()
    return None if row is None else Serving(row.run_id, row.previous_run_id)


def _read(conn: Connection, table: Table, subject: str, others: str, run_id: str, key: str) -> StoredList | None:
    row = conn.execute(
        select(table.c[others], table.c.scores, table.c.levels, table.c.quoted).where(table.c.run_id == run_id, table.c[subject] == key)
    ).first()
    if row is None:
        return None
    return _stored(others[:-1], row[0], row[1], row[2], row[3])  # opening_ids → opening_id


def _stored(other: str, others: str, scores: bytes, levels: bytes, quoted: bytes | None) -> StoredList:
    ids, s_, lv_ = unpack(others, scores, levels)
    return StoredList(
        [{"rank": r, other: i, "score": s, "levels": lv} for r, (i, s, lv) in enumerate(zip(ids, s_.tolist(), lv_), start=1)],
        unpack_quoted(quoted),
    )


def _participant_read_statement():
    s, cur, prev = t.serving, t.participant_lists.alias("cur"), t.participant_lists.alias("prev")
    rec = t.recommended_lists
    pid = bindparam("participant_id")
    joined = (
        s.outerjoin(cur, and_(cur.c.run_id == s.c.run_id, cur.c.participant_id == pid))
        .outerjoin(prev, and_(prev.c.run_id == s.c.previous_run_id, prev.c.participant_id == pid))
        .outerjoin(rec, and_(rec.c.run_id == s.c.run_id, rec.c.participant_id == pid))
    )
    columns = (cur.c.run_id.label("listed"), cur.c.opening_ids, cur.c.scores, cur.c.levels, cur.c.quoted)
    recommended = (rec.c.opening_ids.label("recommended_ids"), rec.c.notes.label("recommended_notes"))
    return (
        select(s.c.run_id, s.c.previous_run_id, *columns, prev.c.opening_ids.label("previous_ids"), *recommended)
        .select_from(joined)
        .where(s.c.id == 1)
    )


#: The serving pointer, the participant's list in the served run, the openings on their list in
#: the previous run and their recommended-now list in the served run: one statement, built once
#: (a stored read is a few milliseconds of CPU; each statement through SQLAlchemy costs a tenth
#: of one, and building one per call as much again: a separate `read_recommended` was 0.3 ms).
_PARTICIPANT_READ = _participant_read_statement()


class ParticipantRead(NamedTuple):
    """What a stored read of a participant's list needs (`participant_read`)."""

    served: Serving | None  # None before the first published run
    stored: StoredList | None  # None: the served run did not rank them
    previous: set[str] | None  # None when there is no previous run; empty when they had no list in it
    recommended: Recommended | None  # None: no recommended-now list for them in the served run


def participant_read(conn: Connection, participant_id: str) -> ParticipantRead:
    """What a stored read of a participant's list needs, in one round trip: the served run,
    the participant's list in it, the openings on their list in the previous run and their
    recommended-now list (`ParticipantRead`)."""
    row = conn.execute(_PARTICIPANT_READ, {"participant_id": participant_id}).first()
    if row is None:
        return ParticipantRead(None, None, None, None)
    served = Serving(row.run_id, row.previous_run_id)
    stored = None if row.listed is None else _stored("opening_id", row.opening_ids, row.scores, row.levels, row.quoted)
    previous = None if row.previous_run_id is None else set(json.loads(row.previous_ids)) if row.previous_ids else set()
    recommended = None if row.recommended_ids is None else _recommended(row.recommended_ids, row.recommended_notes)
    return ParticipantRead(served, stored, previous, recommended)


def _fresh_read_statement():
    s, cur = t.serving, t.participant_lists
    pid = bindparam("participant_id")
    joined = s.outerjoin(cur, and_(cur.c.run_id == s.c.run_id, cur.c.participant_id == pid))
    return select(s.c.run_id, s.c.previous_run_id, cur.c.opening_ids).select_from(joined).where(s.c.id == 1)


#: The serving pointer and the openings on the participant's list in the served run: what a
#: live list compares with ("new since last run"), in one statement.
_FRESH_READ = _fresh_read_statement()


def fresh_read(conn: Connection, participant_id: str) -> tuple[Serving | None, set[str] | None]:
    """The served run (None before the first) and the openings on the participant's list in
    it (None when nothing is served; empty when the run did not list them)."""
    row = conn.execute(_FRESH_READ, {"participant_id": participant_id}).first()
    if row is None:
        return None, None
    return Serving(row.run_id, row.previous_run_id), set(json.loads(row.opening_ids)) if row.opening_ids else set()


def read_participant_list(conn: Connection, run_id: str, participant_id: str) -> StoredList | None:
    """A participant's stored list in a run (None: the run did not rank them)."""
    return _read(conn, t.participant_lists, "participant_id", "opening_ids", run_id, participant_id)


def read_opening_list(conn: Connection, run_id: str, opening_id: str) -> StoredList | None:
    """An opening's stored list in a run (None: the run did not rank it)."""
    return _read(conn, t.opening_lists, "opening_id", "participant_ids", run_id, opening_id)


def participant_list(conn: Connection, run_id: str, participant_id: str) -> list[dict[str, Any]]:
    """A participant's ranked openings in a run, best first: rank, opening_id, score, levels."""
    stored = read_participant_list(conn, run_id, participant_id)
    return stored.rows if stored else []


def opening_list(conn: Connection, run_id: str, opening_id: str) -> list[dict[str, Any]]:
    """An opening's ranked participants in a run, best first: rank, participant_id, score, levels."""
    stored = read_opening_list(conn, run_id, opening_id)
    return stored.rows if stored else []


def openings_in_run(conn: Connection, run_id: str, participant_id: str) -> set[str]:
    """The openings on a participant's list in a run (empty if the participant had none)."""
    pl = t.participant_lists
    others = conn.execute(select(pl.c.opening_ids).where(pl.c.run_id == run_id, pl.c.participant_id == participant_id)).scalar()
    return set(json.loads(others)) if others else set()


def run_lists(conn: Connection, run_id: str, side: str = "participant") -> dict[str, list[tuple[int, str, float]]]:
    """Every list of one side of a run as {subject id: [(rank, other id, score), …]}, for
    comparisons and exports (side: "participant" → openings, "opening" → participants)."""
    table, subject, others = (
        (t.participant_lists, "participant_id", "opening_ids")
        if side == "participant"
        else (t.opening_lists, "opening_id", "participant_ids")
    )
    stmt = (
        select(table.c[subject], table.c[others], table.c.scores, table.c.levels).where(table.c.run_id == run_id).order_by(table.c[subject])
    )
    out = {}
    for key, *packed in conn.execute(stmt):
        ids, scores, _ = unpack(*packed)
        out[key] = [(r, i, float(s)) for r, (i, s) in enumerate(zip(ids, scores), start=1)]
    return out


def employer_view_record(world) -> dict[str, Any]:
    """What a run's opening lists are computed with (see tables.run_employer_views)."""
    from matching.taxonomy import areas

    weighed = sorted(world.participants.needs_shared)
    return {"areas": areas.fingerprint(), "needs_weighed": zlib.compress("\n".join(weighed).encode())}


def employer_view_of(conn: Connection, run_id: str) -> tuple[str, frozenset[str]] | None:
    """The run's areas fingerprint and the ids whose needs its opening lists weighed; None
    for a run published before this was recorded."""
    row = conn.execute(select(t.run_employer_views).where(t.run_employer_views.c.run_id == run_id)).first()
    if row is None:
        return None
    text = zlib.decompress(row.needs_weighed).decode()
    return row.areas, frozenset(text.split("\n")) if text else frozenset()


def openings_of(conn: Connection, run_id: str, participant_ids: list[str]) -> dict[str, list[str]]:
    """The openings on each of these participants' lists in a run, in rank order (the
    caseload's counts); a participant without a list is absent."""
    if not participant_ids:
        return {}
    pl = t.participant_lists
    stmt = select(pl.c.participant_id, pl.c.opening_ids).where(pl.c.run_id == run_id, pl.c.participant_id.in_(participant_ids))
    return {pid: json.loads(others) for pid, others in conn.execute(stmt)}


class Recommended(NamedTuple):
    """A participant's recommended-now list in a run (issue 14) and, per opening of it or of
    the personal top 10, a `Note`."""

    opening_ids: list[str]
    notes: dict[str, Note]


class Note(NamedTuple):
    kept: bool  # in the recommended-now list
    suggested: int  # recommended-now lists the opening is in (this one included if kept)
    free: int  # its free places when the run was made
    exposure: int  # personal top-10 lists it was in
    crowded: int = -1  # 1: the allocation held it to its capacity (priced / over its cap), 0: not; -1: older run, not stored
    held: int = 0  # no room now, so not recommended now: 1 no free place, 2 every free place spoken for, 3 few free places; 0 not
    in_process: int = 0  # chains in flight on the opening at the run (people already in process with it)


def pack_recommended(opening_ids: list[str], notes: dict[str, tuple[int, ...]]) -> tuple[str, str]:
    """Compact JSON (orjson: json.dumps was a tenth of the national refresh's tail CPU)."""
    return orjson.dumps(opening_ids).decode(), orjson.dumps(notes).decode()


def _read_recommended_statement():
    r = t.recommended_lists
    return select(r.c.opening_ids, r.c.notes).where(r.c.run_id == bindparam("run_id"), r.c.participant_id == bindparam("participant_id"))


_READ_RECOMMENDED = _read_recommended_statement()  # built once (see _PARTICIPANT_READ)


def read_recommended(conn: Connection, run_id: str, participant_id: str) -> Recommended | None:
    """None: the run made no recommended-now list for them (not ranked, or an older run)."""
    row = conn.execute(_READ_RECOMMENDED, {"run_id": run_id, "participant_id": participant_id}).first()
    return None if row is None else _recommended(row.opening_ids, row.notes)


def _recommended(opening_ids: str, notes: str) -> Recommended:
    parsed = {
        k: Note(bool(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]) if len(v) > 4 else -1, *(int(x) for x in v[5:7]))
        for k, v in orjson.loads(notes).items()
    }
    return Recommended(orjson.loads(opening_ids), parsed)


def top_placements(conn: Connection, run_id: str, participant_ids: list[str]) -> dict[str, list[str]]:
    """Per participant (of those asked), the openings whose run candidate list has them in its
    top 3 (absent: none)."""
    r = t.run_top_candidates
    rows = conn.execute(select(r.c.participant_id, r.c.opening_ids).where(r.c.run_id == run_id, r.c.participant_id.in_(participant_ids)))
    return {p: json.loads(o) for p, o in rows}
