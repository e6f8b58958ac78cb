"""All-or-nothing import of a data directory.

Every row of every file is validated (pydantic models in `matching.schema`), cross-checked
against the other files and what is already stored, and normalised (titles → STYRK-08,
postal codes → coordinates) before anything is written. One invalid row rejects the whole
import with every error listed; the write itself is one transaction of upserts, so loading
the same directory twice is a no-op and a failure leaves the database as it was.
"""
from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, Table, select

from matching import schema
from matching.store import tables as t
from matching.taxonomy import places, skills

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        value = repr(self.value)
        if len(value) > 60:
            value = value[:57] + "..."
        return f"{self.file}:{self.line}: {self.field}={value}: {self.message}"


class LoadError(Exception):
    """A rejected import; `errors` lists every problem found (nothing was written)."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:200])
        more = f"\n  … and {len(errors) - 200} more" if len(errors) > 200 else ""
        super().__init__(f"import rejected, nothing was written ({len(errors)} error(s)):\n{shown}{more}")


@dataclass
class Batch:
    """Validated, normalised rows ready to write, keyed by table name."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield reader.line_num, row


def validation_errors(file: str, line: int, exc: ValidationError, raw: dict[str, Any]) -> list[RowError]:
    """pydantic errors → RowErrors naming the field and the offending value."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        fld = ".".join(loc) if loc else "(row)"
        value = raw.get(loc[0]) if loc else None
        if err["type"] == "extra_forbidden":
            msg = "unknown column"
        elif err["type"] == "missing":
            msg = "required value is missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        out.append(RowError(file, line, fld, value, msg))
    return out


def validate_rows(
    model: type[BaseModel], rows: Iterable[tuple[int, dict[str, Any]]], file: str
) -> tuple[list[tuple[int, BaseModel]], list[RowError]]:
    good, errors = [], []
    for line, raw in rows:
        cleaned = {k: v for k, v in raw.items() if k is not None}
        if None in raw:
            errors.append(RowError(file, line, "(row)", raw[None], "more values than header columns"))
            continue
        # CSV gives "" for empty cells: treat as absent so defaults apply.
        cleaned = {k: v for k, v in cleaned.items() if v != ""}
        try:
            good.append((line, model.model_validate(cleaned)))
        except ValidationError as exc:
            errors.extend(validation_errors(file, line, exc, cleaned))
    return good, errors


def outcome_event_id(o: schema.Outcome) -> str:
    """Deterministic id so re-importing the same history does not duplicate events."""
    key = f"{o.participant_id}|{o.opening_id}|{o.event}|{o.occurred_at.isoformat()}"
    return "E-" + hashlib.sha1(key.encode()).hexdigest()[:16]


def _existing_ids(conn: Connection, table: Table, column: str) -> set[str]:
    return set(conn.execute(select(table.c[column])).scalars())


_TITLE_CODES: dict[str, str | None] = {}


def _normalise_codes(titles: list[str]) -> list[str | None]:
    """Titles → STYRK codes, batched and memoised (the same titles recur across rows)."""
    from matching.taxonomy.titles import normalise_titles

    missing = list(dict.fromkeys(t for t in titles if t not in _TITLE_CODES))
    if missing:
        if len(_TITLE_CODES) > 200_000:
            _TITLE_CODES.clear()
        for title, m in zip(missing, normalise_titles(missing)):
            _TITLE_CODES[title] = m.code if m is not None else None
    return [_TITLE_CODES[t] for t in titles]


class UnrecognisedTitles(ValueError):
    """None of a profile's desired titles could be normalised to a STYRK-08 code."""

    field = "desired_titles"


def participant_row(profile: schema.ParticipantProfile) -> dict[str, Any]:
    """A validated profile (stored participant or posted to the API) → the stored row shape.

    Dates stay dates, desired titles are normalised to STYRK-08 codes when no code was given,
    free-text skills to ESCO ids where recognised, and the postal code gives the coordinates. Raises UnrecognisedTitles if codes had to be
    normalised and none of the titles was recognised.
    """
    row = profile.model_dump(mode="json")
    for name in ("registered_at", "available_from"):
        if name in row:
            row[name] = getattr(profile, name)
    if not profile.desired_styrk08:
        found = [c for c in _normalise_codes(profile.desired_titles) if c]
        if not found:
            raise UnrecognisedTitles("could not recognise any desired title; give desired_styrk08")
        row["desired_styrk08"] = list(dict.fromkeys(found))
    row["skills"] = skills.normalise_skill_list(profile.skills)
    p = places.lookup(profile.postal_code)
    row.update(lat=p.lat, lon=p.lon)
    return row


def prepare(conn: Connection, files: dict[str, list[tuple[int, dict[str, Any]]]]) -> Batch:
    """Validate, cross-check and normalise every row; collect every error."""
    batch = Batch()
    parsed: dict[str, list[tuple[int, Any]]] = {}
    for name, model in schema.FILES.items():
        if name in files:
            good, errs = validate_rows(model, files[name], name)
            parsed[name] = good
            batch.errors.extend(errs)

    def ids(name: str, attr: str, table: Table) -> set[str]:
        return {getattr(r, attr) for _, r in parsed.get(name, [])} | _existing_ids(conn, table, attr)

    office_ids = ids("offices.csv", "office_id", t.offices)
    orgnrs = ids("employers.csv", "orgnr", t.employers)
    opening_ids = ids("openings.csv", "opening_id", t.openings)
    participant_ids = ids("participants.csv", "participant_id", t.participants)

    def check_ref(file: str, line: int, fld: str, value: str, known: set[str], what: str) -> bool:
        if value not in known:
            batch.errors.append(RowError(file, line, fld, value, f"unknown {what} (not in this import or the database)"))
            return False
        return True

    def check_unique(file: str, attr: str) -> None:
        seen: dict[str, int] = {}
        for line, r in parsed.get(file, []):
            key = getattr(r, attr)
            if key in seen:
                batch.errors.append(RowError(file, line, attr, key, f"duplicate id (also on line {seen[key]})"))
            seen.setdefault(key, line)

    for file, attr in [("offices.csv", "office_id"), ("employers.csv", "orgnr"),
                       ("openings.csv", "opening_id"), ("participants.csv", "participant_id")]:
        check_unique(file, attr)

    out: dict[str, list[dict[str, Any]]] = {}
    out["offices"] = [r.model_dump() for _, r in parsed.get("offices.csv", [])]

    employer_rows = []
    for line, r in parsed.get("employers.csv", []):
        check_ref("employers.csv", line, "office_id", r.office_id, office_ids, "office")
        p = places.lookup(r.postal_code)
        employer_rows.append({**r.model_dump(), "lat": p.lat, "lon": p.lon})
    out["employers"] = employer_rows
    employer_loc = {e["orgnr"]: (e["postal_code"], e["lat"], e["lon"]) for e in employer_rows}
    missing = orgnrs - set(employer_loc)
    if missing:
        for row in conn.execute(select(t.employers.c.orgnr, t.employers.c.postal_code, t.employers.c.lat,
                                       t.employers.c.lon).where(t.employers.c.orgnr.in_(missing))):
            employer_loc[row.orgnr] = (row.postal_code, row.lat, row.lon)

    opening_items = parsed.get("openings.csv", [])
    blank = [(i, r.title) for i, (_, r) in enumerate(opening_items) if not r.styrk08]
    codes = dict(zip([i for i, _ in blank], _normalise_codes([title for _, title in blank]))) if blank else {}
    opening_rows = []
    for i, (line, r) in enumerate(opening_items):
        ok = check_ref("openings.csv", line, "orgnr", r.orgnr, orgnrs, "employer organisation number")
        check_ref("openings.csv", line, "office_id", r.office_id, office_ids, "office")
        code, source = r.styrk08, "given"
        if not code:
            code, source = codes.get(i), "normalised"
            if code is None:
                batch.errors.append(RowError("openings.csv", line, "title", r.title,
                                             "could not recognise the job title; give styrk08 explicitly"))
        row = {**r.model_dump(), "styrk08": code, "styrk08_source": source,
               "required_skills": skills.normalise_skill_list(r.required_skills),
               "optional_skills": skills.normalise_skill_list(r.optional_skills)}
        if r.postal_code:
            p = places.lookup(r.postal_code)
            row.update(lat=p.lat, lon=p.lon)
        elif ok:
            row.update(postal_code=employer_loc[r.orgnr][0], lat=employer_loc[r.orgnr][1], lon=employer_loc[r.orgnr][2])
        opening_rows.append(row)
    out["openings"] = opening_rows

    participant_rows = []
    # One batch for every title that needs normalising, instead of one call per row.
    _normalise_codes([t for _, r in parsed.get("participants.csv", []) if not r.desired_styrk08
                      for t in r.desired_titles])
    for line, r in parsed.get("participants.csv", []):
        check_ref("participants.csv", line, "office_id", r.office_id, office_ids, "office")
        try:
            participant_rows.append(participant_row(r))
        except UnrecognisedTitles as exc:
            batch.errors.append(RowError("participants.csv", line, exc.field, "|".join(r.desired_titles), str(exc)))
    out["participants"] = participant_rows

    outcome_rows = []
    for line, r in parsed.get("outcomes.csv", []):
        check_ref("outcomes.csv", line, "participant_id", r.participant_id, participant_ids, "participant")
        check_ref("outcomes.csv", line, "opening_id", r.opening_id, opening_ids, "opening")
        row = r.model_dump()
        row["event_id"] = r.event_id or outcome_event_id(r)
        outcome_rows.append(row)
    out["outcomes"] = outcome_rows

    batch.rows = {k: v for k, v in out.items() if v}
    return batch


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    keys = [c.name for c in table.primary_key.columns]
    cols = [c.name for c in table.columns]
    rows = [{c: r.get(c) for c in cols} for r in rows]
    stmt = insert(table)
    update = {c: stmt.excluded[c] for c in cols if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update) if update else stmt.on_conflict_do_nothing()
    for start in range(0, len(rows), 2000):
        conn.execute(stmt, rows[start:start + 2000])


TABLE_ORDER = [("offices", t.offices), ("employers", t.employers), ("openings", t.openings),
               ("participants", t.participants), ("outcomes", t.outcomes)]


def write(conn: Connection, batch: Batch) -> dict[str, int]:
    counts = {}
    for name, table in TABLE_ORDER:
        rows = batch.rows.get(name, [])
        if rows:
            _upsert(conn, table, rows)
        counts[name] = len(rows)
    return counts


def read_directory(directory: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    directory = Path(directory)
    if not directory.is_dir():
        raise LoadError([RowError(str(directory), 0, "(directory)", str(directory), "not a directory")])
    files: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    errors = []
    for path in sorted(directory.glob("*.csv")):
        if path.name not in schema.FILES:
            errors.append(RowError(path.name, 0, "(file)", path.name,
                                   f"unexpected file; expected some of {list(schema.FILES)}"))
            continue
        try:
            files[path.name] = list(_read_csv(path))
        except UnicodeDecodeError as exc:
            errors.append(RowError(path.name, 0, "(file)", path.name,
                                   f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                                   f"{exc.start}); save the file as UTF-8"))
        except csv.Error as exc:
            errors.append(RowError(path.name, 0, "(file)", path.name, f"not a readable CSV file: {exc}"))
    if errors:
        raise LoadError(errors)
    if not files:
        raise LoadError([RowError(str(directory), 0, "(directory)", str(directory),
                                  f"no data files found; expected some of {list(schema.FILES)}")])
    return files


def load_directory(engine: Engine, directory: Path) -> dict[str, int]:
    """Validate and import a directory; raises LoadError (nothing written) on any bad row."""
    files = read_directory(directory)
    with engine.begin() as conn:
        batch = prepare(conn, files)
        if batch.errors:
            raise LoadError(batch.errors)
        counts = write(conn, batch)
    log.info("loaded %s", counts)
    return counts
