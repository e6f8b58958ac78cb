"""SQLAlchemy Core tables: one metadata for SQLite (default) and PostgreSQL.

The schema is created and changed by the Alembic migrations in `store/migrations/` (run by
`store.db.make_engine`); a change here needs a migration there (tests/test_migrations.py
checks that the migrated schema equals this metadata).

List-valued attributes are JSON columns: they are read whole when the snapshot is built
(`store/snapshot.py`), never queried element-wise, and JSON keeps one schema for both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


offices = Table(
    "offices",
    metadata,
    Column("office_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("municipality_code", String(4), nullable=False),
    Column("postal_code", String(4), nullable=False),
)

employers = Table(
    "employers",
    metadata,
    Column("orgnr", String(9), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("nace", String(6), nullable=False),
    Column("nace_section", String(1), nullable=False),
    Column("postal_code", String(4), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("office_id", String(40), ForeignKey("offices.office_id"), nullable=False),
    Column("adaptations_offered", JSON, nullable=False),
    Column("inclusive_workplace_agreement", Boolean, nullable=False),
    Column("past_trial_placements", Integer, nullable=False),
    Column("past_hires_after_trial", Integer, nullable=False),
    Column("contact_name", String(200)),
    Column("contact_email", String(200)),
    Column("max_contacts_per_month", Integer),  # NULL: no cap
)

openings = Table(
    "openings",
    metadata,
    Column("opening_id", String(40), primary_key=True),
    Column("orgnr", String(9), ForeignKey("employers.orgnr"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("title", String(200), nullable=False),
    Column("styrk08", String(4), nullable=False),
    Column("styrk08_source", String(12), nullable=False),  # given | normalised
    Column("required_skills", JSON, nullable=False),
    Column("optional_skills", JSON, nullable=False),
    Column("required_licences", JSON, nullable=False),
    Column("min_norwegian", String(12), nullable=False),
    Column("min_education", String(20), nullable=False),
    Column("hours_per_week", Float, nullable=False),
    Column("positions", Integer, nullable=False),
    Column("postal_code", String(4), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("start_date", Date),
    Column("deadline", Date),
    Column("status", String(8), nullable=False),
    Column("adaptations_offered", JSON, nullable=False),
    Column("office_id", String(40), ForeignKey("offices.office_id"), nullable=False),
    Column("published_at", Date, nullable=False),
    Index("ix_openings_office", "office_id"),
)

participants = Table(
    "participants",
    metadata,
    Column("participant_id", String(40), primary_key=True),
    Column("office_id", String(40), ForeignKey("offices.office_id"), nullable=False),
    Column("registered_at", Date, nullable=False),
    Column("postal_code", String(4), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("max_commute_km", Float, nullable=False),
    Column("desired_titles", JSON, nullable=False),
    Column("desired_styrk08", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("experience", JSON, nullable=False),
    Column("education_level", String(20), nullable=False),
    Column("norwegian_level", String(12), nullable=False),
    Column("driving_licences", JSON, nullable=False),
    Column("max_hours_per_week", Float, nullable=False),
    Column("wants_part_time", Boolean, nullable=False),
    Column("available_from", Date),
    Column("goal", String(8), nullable=False),
    Column("adaptation_needs", JSON, nullable=False),
    Column("shares_needs_with_employers", Boolean, nullable=False),
    Column("preferred_industries", JSON, nullable=False),
    Column("trusted_person", String(200)),
    Column("adviser_id", String(200)),  # token `sub` of the adviser following them (migration 0003)
    Column("birth_year", Integer),  # optional; fairness reporting only, never matched on (migration 0005)
    Index("ix_participants_office", "office_id"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("participant_id", String(40), ForeignKey("participants.participant_id"), nullable=False),
    Column("opening_id", String(40), ForeignKey("openings.opening_id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("reason", Text),
    Column("occurred_at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Index("ix_outcomes_pair", "participant_id", "opening_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("status", String(12), nullable=False),  # matching.schema.RunStatus
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("as_of", Date, nullable=False),
    Column("model_version", String(40), nullable=False),
    Column("backend", String(20), nullable=False),
    Column("top_k", Integer, nullable=False),
    Column("n_participants", Integer),
    Column("n_openings", Integer),
    Column("n_pairs", Integer),
    Column("error", Text),
    # The data version (versioning.py) read just before the run read its snapshot: a row whose
    # `row_changes.version` is above it changed after the run saw it (migration 0004; NULL for
    # older runs, whose lists are then always re-checked on a small World).
    Column("data_version", Integer),
    # The nightly promotion gate (matching/gate.py, `matching refresh --auto-promote`): the
    # candidate model it judged, "promoted" or "refused", and the figures (JSON). NULL when the
    # run was not gated (migration 0005).
    Column("gate_candidate", String(40)),
    Column("gate_decision", String(12)),
    Column("gate_detail", JSON),
    # Congestion of the run's personal lists and of its recommended-now lists (issue 14,
    # matching/allocation.py `congestion`: overall and per office). Migration 0006.
    Column("congestion", JSON),
)

#: At most one row (id = 1): which refresh holds the right to write a run, and whether its
#: process is still alive (same host: pid check; other host: heartbeat age).
refresh_lock = Table(
    "refresh_lock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", String(40)),  # NULL = free
    Column("owner", String(200)),  # host:pid
    Column("heartbeat_at", DateTime),
)

#: At most one row (id = 1; none before the first published run): the run the API serves, and
#: the one before it (for "new since last run" flags). Publishing a run is one UPDATE of it.
serving = Table(
    "serving",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", String(40), ForeignKey("runs.run_id"), nullable=False),
    Column("previous_run_id", String(40), ForeignKey("runs.run_id")),
    Column("published_at", DateTime, nullable=False),
)


def _ranked_list(name: str, subject: str, others: str) -> Table:
    """One run's whole top-K list of one subject in one row (participant → openings, or
    opening → participants): the other side's ids in rank order as a JSON array; the
    scores as little-endian float64; each pair's criteria levels as uint8, one row of
    bytes per pair in the run model's criteria order (`store/lists.py`: `pack`, `unpack`).
    Reasons are rendered from the levels when a list is read. One row per list, not per
    pair: a national run (300k × 50k, K = 50) writes ~315k rows instead of ~16M."""
    return Table(
        name,
        metadata,
        Column("run_id", String(40), ForeignKey("runs.run_id"), primary_key=True),
        Column(subject, String(40), primary_key=True),
        Column(others, Text, nullable=False),
        Column("scores", LargeBinary, nullable=False),
        Column("levels", LargeBinary, nullable=False),
        # What the reasons quote, computed by the run for every listed pair, with the listed
        # openings' kind, title and employer and the earliest listed deadline (store/lists.py
        # `pack_quoted`); NULL in older runs and on the opening side. Migration 0004.
        Column("quoted", LargeBinary),
    )


participant_lists = _ranked_list("participant_lists", "participant_id", "opening_ids")
opening_lists = _ranked_list("opening_lists", "opening_id", "participant_ids")

#: A run's *recommended now* lists (issue 14, matching/allocation.py), one row per participant
#: the run ranked: `opening_ids` the recommended-now list (JSON array, in personal-rank order);
#: `notes` per opening of the personal top 10 or of that list, [kept (0/1), how many
#: recommended-now lists the opening is in, its free places, its personal top-10 exposure]
#: (JSON object). Migration 0006.
recommended_lists = Table(
    "recommended_lists",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.run_id"), primary_key=True),
    Column("participant_id", String(40), primary_key=True),
    Column("opening_ids", Text, nullable=False),
    Column("notes", Text, nullable=False),
)

#: Per participant of a run: the openings whose employer-facing candidate list (the run's
#: opening lists) has them in its top 3 (`opening_ids`, JSON array; participants with none have
#: no row). An opening's candidate list marks those "strongly matched elsewhere" (issue 14):
#: computed from employer-facing lists only, so it depends on nothing a liaison may not learn.
#: Migration 0006.
run_top_candidates = Table(
    "run_top_candidates",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.run_id"), primary_key=True),
    Column("participant_id", String(40), primary_key=True),
    Column("opening_ids", Text, nullable=False),
)

#: What a run's opening lists (employer-facing) were computed with, so they are served only
#: while that still holds (`lists.employer_view_of`, read by matching/serving.py): the home-area partition's fingerprint, and the
#: participants whose adaptation needs were weighed (zlib-compressed, newline-separated ids).
#: Added by migration 0002; a run without a row (published before it existed) has its opening
#: lists recomputed live.
run_employer_views = Table(
    "run_employer_views",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.run_id"), primary_key=True),
    Column("areas", String(64), nullable=False),
    Column("needs_weighed", LargeBinary, nullable=False),
)

#: Exactly one row (id = 1): a counter that database triggers bump on every write to
#: participants, openings or employers, whichever process or tool writes (store/versioning.py
#: installs them). The API's snapshot (matching/runtime.py) compares it with the version it
#: was built at instead of re-reading the tables on a timer.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

#: Per-row change tracking: for each participant, opening and employer written since migration
#: 0004, the data version its last write moved the counter to (`tbl` is the table's name, `key`
#: its primary key; a delete counts as a write). Kept by the same triggers as `data_version`
#: (versioning.py). A stored list's quoted values hold while none of its rows is above the
#: run's `data_version` (matching/serving.py).
row_changes = Table(
    "row_changes",
    metadata,
    Column("tbl", String(16), primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("sub", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(60), nullable=False),
    Column("participant_id", String(40)),
    Column("opening_id", String(40)),
    Column("detail", Text),
    Index("ix_audit_participant", "participant_id"),
)
