"""All-or-nothing bulk import of a data directory.

Every row of every file is validated (pydantic models in `matching.schema`), cross-checked
against the other files and what is already stored, and normalised by `matching.normalise`
(titles → STYRK-08, skills → ESCO ids, postal codes → coordinates; the same functions
`POST /v1/match` uses). One invalid row rejects the whole import with every error
listed; everything happens in one transaction of upserts, so loading the same directory twice
is a no-op and a failure leaves the database as it was.

Files are streamed in chunks of ``CHUNK_ROWS`` rows in load order (a file only references
earlier ones), so memory stays bounded at national size (300,000 participants): a chunk is
validated in one pydantic call, normalised with batched, memoised lookups and upserted with one
executemany of pre-encoded parameters. Chunks are written as soon as they are valid, inside
the transaction; after the first error nothing more is written, every remaining row is still
checked, and the transaction is rolled back.

Errors name the file's physical line: files are read as bytes and decoded line by line (a bad
byte is reported on its own line), a record spanning several lines (a quoted newline) is
reported on the line it starts. A file that is empty or has a wrong header is one error for
the file, not one per row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Connection, Engine, Table, select

from matching import normalise, schema
from matching.normalise import UnrecognisedTitles
from matching.normalise import outcome_event_id as outcome_event_id  # re-exported: POST /v1/feedback's id
from matching.store import tables as t

log = logging.getLogger(__name__)

#: Rows validated and written per step: large enough that per-call overhead vanishes,
#: small enough that a chunk of participants stays well under 100 MB.
CHUNK_ROWS = 20_000


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


def validation_errors(file: str, line: int, exc: ValidationError, raw: dict[str, Any]) -> list[RowError]:
    """pydantic errors → RowErrors naming the field and the offending value."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if not loc and isinstance(err.get("ctx"), dict) and err["ctx"].get("field"):
            loc = [str(err["ctx"]["field"])]  # a check across fields that names the one to fix
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


class _BadFile(Exception):
    """The rest of a file cannot be read (not UTF-8, not CSV); `line` is the physical line."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _decoded_lines(fh) -> Iterator[str]:
    """A binary file's lines decoded one by one, so a bad byte is reported on its own line."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadFile(
                number, f"not UTF-8 text (byte {raw[exc.start : exc.start + 1]!r} at column {exc.start + 1}); save the file as UTF-8"
            ) from None


class _CsvFile:
    """A CSV data file: its header, then (line, row) pairs where `line` is the physical line
    the record starts on. Blank lines are skipped."""

    def __init__(self, fh):
        self._reader = csv.reader(_decoded_lines(fh))
        self.header: list[str] | None = None
        self.header_line = 0

    def _next(self) -> tuple[int, list[str]] | None:
        reader = self._reader
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise _BadFile(start, f"not a readable CSV file: {exc}") from None
            if record:
                return start, record

    def read_header(self) -> list[str] | None:
        found = self._next()
        if found is not None:
            self.header_line, self.header = found
        return self.header

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        header = self.header or []
        n = len(header)
        while (found := self._next()) is not None:
            line, record = found
            row: dict[Any, Any] = dict(zip(header, record))
            if len(record) > n:
                row[None] = record[n:]
            elif len(record) < n:
                row[None] = None  # marks a short row
            yield line, row


def header_errors(file: str, model: type[BaseModel], header: list[str], line: int) -> list[RowError]:
    """One error for a header with unknown, duplicate or missing columns (else none)."""
    fields = model.model_fields
    unknown = [c for c in header if c not in fields]
    duplicate = sorted({c for c in header if header.count(c) > 1})
    missing = [name for name, f in fields.items() if f.is_required() and name not in header]
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {unknown}")
    if duplicate:
        problems.append(f"duplicate column(s) {duplicate}")
    if missing:
        problems.append(f"missing required column(s) {missing}")
    if not problems:
        return []
    return [RowError(file, line, "(header)", ",".join(header), "; ".join(problems) + f"; expected columns: {','.join(fields)}")]


@lru_cache(maxsize=8)
def _list_adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]  # the row model is chosen at run time


def _validate_chunk(
    model: type[BaseModel], items: list[tuple[int, dict[str, Any]]], file: str, context: dict[str, Any] | None = None
) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """Validate a chunk in one pydantic call; only a chunk with errors is redone row by row,
    to keep its good rows and report each bad one with its line."""
    lines, cleaned, errors = [], [], []
    for line, raw in items:
        if None in raw:
            extra = raw.pop(None)  # type: ignore[call-overload]  # csv.DictReader's key for surplus values
            if extra is None:
                errors.append(RowError(file, line, "(row)", list(raw.values()), "fewer values than header columns"))
            else:
                errors.append(RowError(file, line, "(row)", extra, "more values than header columns"))
            continue
        nul = [(k, v) for k, v in raw.items() if "\x00" in v]
        if nul:
            errors.extend(
                RowError(file, line, k, v, "contains a NUL byte (\\x00); text must not contain control characters") for k, v in nul
            )
            continue
        # CSV gives "" for empty cells: treat as absent so defaults apply.
        cleaned.append({k: v for k, v in raw.items() if v != ""})
        lines.append(line)
    try:
        return list(zip(lines, _list_adapter(model).validate_python(cleaned, context=context))), errors
    except ValidationError:
        pass
    good = []
    for line, row in zip(lines, cleaned):
        try:
            good.append((line, model.model_validate(row, context=context)))
        except ValidationError as exc:
            errors.extend(validation_errors(file, line, exc, row))
    return good, errors


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert-or-update `rows` with one executemany.

    The statement is compiled once and parameters are encoded column by column with the
    columns' own bind processors (JSON, dates, booleans), then handed to the driver as-is:
    SQLAlchemy's per-row parameter handling cost more than SQLite's insert itself.
    """
    if not rows:
        return
    sql, order, positional, processors = _upsert_statement(type(conn.dialect), conn.dialect, table)
    columns = {}
    for col in table.columns:
        values = [r.get(col.name) for r in rows]
        process = processors[col.name]
        columns[col.name] = [process(v) for v in values] if process else values
    if positional:
        params: list[Any] = list(zip(*(columns[name] for name in order)))
    else:
        params = [dict(zip(order, values)) for values in zip(*(columns[c] for c in order))]
    conn.exec_driver_sql(sql, params)


_STATEMENTS: dict[tuple[type, str], tuple[str, tuple[str, ...], bool, dict[str, Any]]] = {}


def _upsert_statement(kind: type, dialect, table: Table) -> tuple[str, tuple[str, ...], bool, dict[str, Any]]:
    """The compiled upsert for a table (SQL, parameter order, positional?, bind processors)."""
    key = (kind, table.name)
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
    keys = [c.name for c in table.primary_key.columns]
    cols = [c.name for c in table.columns]
    stmt = insert(table)
    update = {c: stmt.excluded[c] for c in cols if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update) if update else stmt.on_conflict_do_nothing()
    compiled = stmt.compile(dialect=dialect, column_keys=cols)
    # the same encoding (JSON, dates, booleans) conn.execute would apply
    processors = {c.name: c.type._cached_bind_processor(dialect) for c in table.columns}
    order = tuple(compiled.positiontup or ()) if compiled.positional else tuple(cols)
    _STATEMENTS[key] = (compiled.string, order, bool(compiled.positional), processors)
    return _STATEMENTS[key]


def read_directory(directory: Path) -> dict[str, Path]:
    """The data files of a directory by name; a stray or missing file set is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LoadError([RowError(str(directory), 0, "(directory)", str(directory), "not a directory")])
    files: dict[str, Path] = {}
    errors = []
    for path in sorted(directory.glob("*.csv")):
        if path.name not in schema.FILES:
            errors.append(RowError(path.name, 0, "(file)", path.name, f"unexpected file; expected some of {list(schema.FILES)}"))
        else:
            files[path.name] = path
    if errors:
        raise LoadError(errors)
    if not files:
        raise LoadError(
            [RowError(str(directory), 0, "(directory)", str(directory), f"no data files found; expected some of {list(schema.FILES)}")]
        )
    return files


@dataclass
class _Import:
    """State of one import: ids seen so far, where employers are, every error."""

    conn: Connection
    today: dt.date
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seen: dict[str, dict[str, int]] = field(default_factory=dict)  # file → id → first line
    stored: dict[str, set[str]] = field(default_factory=dict)  # table → ids stored before the import
    employer_loc: dict[str, tuple[str, float, float]] = field(default_factory=dict)

    def known(self, file: str, table: Table, column: str) -> tuple[dict[str, int], set[str]]:
        if table.name not in self.stored:
            self.stored[table.name] = set(self.conn.execute(select(table.c[column])).scalars())
        return self.seen.get(file, {}), self.stored[table.name]

    def check_ref(self, file: str, line: int, fld: str, value: str, what: str, ref_file: str, table: Table, column: str) -> bool:
        in_import, in_db = self.known(ref_file, table, column)
        if value in in_import or value in in_db:
            return True
        self.errors.append(RowError(file, line, fld, value, f"unknown {what} (not in this import or the database)"))
        return False

    def check_unique(self, file: str, attr: str, items: list[tuple[int, Any]]) -> None:
        seen = self.seen.setdefault(file, {})
        for line, r in items:
            key = getattr(r, attr)
            if key in seen:
                self.errors.append(RowError(file, line, attr, key, f"duplicate id (also on line {seen[key]})"))
            else:
                seen[key] = line

    def locate_employers(self, orgnrs: set[str]) -> None:
        missing = orgnrs - set(self.employer_loc)
        if missing:
            e = t.employers.c
            for row in self.conn.execute(select(e.orgnr, e.postal_code, e.lat, e.lon).where(e.orgnr.in_(missing))):
                self.employer_loc[row.orgnr] = (row.postal_code, row.lat, row.lon)

    # -------------------------------------------------------------------- per file: rows to store

    def offices(self, items):
        self.check_unique("offices.csv", "office_id", items)
        return [normalise.office(r) for _, r in items]

    def employers(self, items):
        self.check_unique("employers.csv", "orgnr", items)
        rows = []
        for line, r in items:
            self.check_ref("employers.csv", line, "office_id", r.office_id, "office", "offices.csv", t.offices, "office_id")
            row = normalise.employer(r)
            rows.append(row)
            self.employer_loc[r.orgnr] = normalise.employer_place(row)
        return rows

    def openings(self, items):
        file = "openings.csv"
        self.check_unique(file, "opening_id", items)
        self.locate_employers({r.orgnr for _, r in items if not r.postal_code})
        # One batch for every title that needs normalising, instead of one call per row.
        codes = iter(normalise.title_codes([r.title for _, r in items if not r.styrk08]))
        rows = []
        for line, r in items:
            ok = self.check_ref(file, line, "orgnr", r.orgnr, "employer organisation number", "employers.csv", t.employers, "orgnr")
            self.check_ref(file, line, "office_id", r.office_id, "office", "offices.csv", t.offices, "office_id")
            at_employer = self.employer_loc.get(r.orgnr) if ok else None
            try:
                rows.append(normalise.opening(r, at_employer, code=None if r.styrk08 else next(codes)))
            except UnrecognisedTitles as exc:
                self.errors.append(RowError(file, line, exc.field, r.title, str(exc)))
        return rows

    def participants(self, items):
        file = "participants.csv"
        self.check_unique(file, "participant_id", items)
        # One batch for every title that needs normalising (memoised for the rows below).
        normalise.title_codes([title for _, r in items if not r.desired_styrk08 for title in r.desired_titles])
        rows = []
        for line, r in items:
            self.check_ref(file, line, "office_id", r.office_id, "office", "offices.csv", t.offices, "office_id")
            try:
                rows.append(normalise.participant(r))
            except UnrecognisedTitles as exc:
                self.errors.append(RowError(file, line, exc.field, "|".join(r.desired_titles), str(exc)))
        return rows

    def outcomes(self, items):
        file = "outcomes.csv"
        rows = []
        for line, r in items:
            self.check_ref(
                file, line, "participant_id", r.participant_id, "participant", "participants.csv", t.participants, "participant_id"
            )
            self.check_ref(file, line, "opening_id", r.opening_id, "opening", "openings.csv", t.openings, "opening_id")
            rows.append(normalise.outcome(r))
        return rows

    def load_file(self, name: str, path: Path, chunk_rows: int) -> None:
        model, table = schema.FILES[name], TABLES[name]
        to_rows = getattr(self, table.name)
        context = {"today": self.today}
        count = 0
        with path.open("rb") as fh:
            data = _CsvFile(fh)
            try:
                header = data.read_header()
            except _BadFile as exc:
                self.errors.append(RowError(name, exc.line, "(file)", name, exc.message))
                header = None
                self.counts[table.name] = 0
                return
            if header is None:
                size = path.stat().st_size
                what = "empty file (0 bytes)" if size == 0 else "no header line (only blank lines)"
                self.errors.append(RowError(name, 1, "(file)", name, f"{what}; expected a header line: {','.join(model.model_fields)}"))
            else:
                bad_header = header_errors(name, model, header, data.header_line)
                self.errors.extend(bad_header)
                if bad_header:  # every row would repeat it: one error for the file
                    header = None
            stream = data.rows() if header is not None else iter(())
            while True:
                try:
                    items = list(islice(stream, chunk_rows))
                except _BadFile as exc:
                    self.errors.append(RowError(name, exc.line, "(file)", name, exc.message))
                    break
                if not items:
                    break
                good, errors = _validate_chunk(model, items, name, context)
                self.errors.extend(errors)
                rows = to_rows(good)
                if not self.errors:  # after the first error only check, never write
                    _upsert(self.conn, table, rows)
                count += len(rows)
        self.counts[table.name] = count


#: Each file's table, in load order.
TABLES: dict[str, Table] = {
    "offices.csv": t.offices,
    "employers.csv": t.employers,
    "openings.csv": t.openings,
    "participants.csv": t.participants,
    "outcomes.csv": t.outcomes,
}


def load_directory(engine: Engine, directory: Path, *, chunk_rows: int = CHUNK_ROWS, today: dt.date | None = None) -> dict[str, int]:
    """Validate and import a directory; raises LoadError (nothing written) on any bad row.

    Dates are checked against `today` (default: the settings' — ``MATCHING_TODAY`` when set)."""
    if today is None:
        from matching.config import get_settings

        today = get_settings().as_of()
    files = read_directory(directory)
    with engine.begin() as conn:
        job = _Import(conn, today)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB of page cache for index inserts
        try:
            for name in schema.FILES:
                if name in files:
                    job.load_file(name, files[name], chunk_rows)
        finally:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
        if job.errors:
            raise LoadError(job.errors)
    counts = {table.name: job.counts.get(table.name, 0) for table in TABLES.values()}
    log.info("loaded %s", counts)
    return counts
