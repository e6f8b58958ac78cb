"""A snapshot of participants and openings as aligned, encoded arrays.

Everything the feature pipeline needs is encoded once per snapshot (sets as bitmasks or
sparse rows, codes as integers), so pair features are pure numpy over index arrays and the
same code serves the nightly batch, a live request and a profile that is not stored.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching import schema
from matching.contacts import EmployerHistory
from matching.taxonomy import adaptations, areas
from matching.taxonomy import skills as skill_taxonomy

NEED_CODES: tuple[str, ...] = tuple(sorted(adaptations.needs()))
LICENCES: tuple[str, ...] = tuple(sorted(schema.LICENCE_CLASSES))
MAX_CODES = 6  # desired + experience codes kept per participant
NACE_SECTIONS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRSTU")


GOALS: tuple[str, ...] = (schema.Kind.job.value, schema.Kind.trial.value, schema.Goal.either.value)


def _goal_code(values: pd.Series) -> np.ndarray:
    return _codes(values, GOALS).astype(np.int8)


def _codes(values: pd.Series, vocabulary: tuple[str, ...] | list[str]) -> np.ndarray:
    """Each value's position in `vocabulary` (int64). A plain loop: pandas' `map` cost more
    than a one-participant World's whole encoding (a posted profile)."""
    pos = {v: i for i, v in enumerate(vocabulary)}
    # tolist(): iterating a Series of pandas' string dtype fetches each value through
    # __getitem__ (~5 µs each, 1.5 s of a national snapshot's encoding).
    plain = values.tolist() if isinstance(values, pd.Series) else values
    return np.fromiter((pos[v] for v in plain), dtype=np.int64, count=len(values))


def _id_rank(ids: np.ndarray) -> np.ndarray:
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(len(ids))
    return rank


def _ordinals(values: pd.Series, missing: int) -> np.ndarray:
    """Dates as proleptic ordinals; no date → `missing`."""
    return np.array([d.toordinal() if isinstance(d, dt.date) else missing for d in values], dtype=np.int64)


def _tie_rank(keys: tuple[np.ndarray, ...], ids: np.ndarray) -> np.ndarray:
    """Rank of each row by `keys` (the first the most significant), then by id."""
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.lexsort((_id_rank(ids), *reversed(keys)))] = np.arange(len(ids))
    return rank


def bitmask(values: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Encode list-valued cells as integer bitmasks over a fixed vocabulary."""
    pos = {v: i for i, v in enumerate(vocabulary)}
    out = np.zeros(len(values), dtype=np.int64)
    for row, items in enumerate(values):
        mask = 0
        for item in items or ():
            if item in pos:
                mask |= 1 << pos[item]
        out[row] = mask
    return out


def popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x.astype(np.uint64)).astype(np.int64)


def _skill_matrix(values: pd.Series, vocab: dict[str, int]) -> sp.csr_matrix:
    # Free text without an ESCO id may still fuzzily meet an opening's free text (fallback).
    unknown = {item for items in values for item in (items or ()) if item not in vocab}
    fallback = skill_taxonomy.match_free_text(unknown, vocab) if unknown else {}
    rows, cols = [], []
    for r, items in enumerate(values):
        for item in set(items or ()):
            c = vocab.get(item, vocab.get(fallback.get(item, "")))
            if c is not None:
                rows.append(r)
                cols.append(c)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(values), max(len(vocab), 1)))


#: Per skill vocabulary (by identity, the last few): each occupation code's typical skills as
#: a one-row matrix. A posted profile (`POST /v1/match`) is a one-participant World on the
#: snapshot's vocabulary; encoding its codes' typical skills again cost ~1 ms a request.
_TYPICAL: list[tuple[dict[str, int], int, dict[int, sp.csr_matrix]]] = []
_TYPICAL_MAX = 4


def _typical_skills(codes: list[int], vocab: dict[str, int]) -> sp.csr_matrix:
    """(code × skill) indicator of these codes' typical skills, as `_skill_matrix` encodes them."""
    rows = next((known for owner, size, known in _TYPICAL if owner is vocab and size == len(vocab)), None)
    if rows is None:  # a vocabulary is never changed in place; the size check catches one that was
        rows = {}
        _TYPICAL.insert(0, (vocab, len(vocab), rows))
        del _TYPICAL[_TYPICAL_MAX:]
    missing = [c for c in codes if c not in rows]
    if missing:
        found = _skill_matrix(pd.Series([skill_taxonomy.inferred_skills(f"{c:04d}") for c in missing], dtype=object), vocab)
        rows.update((c, found[i]) for i, c in enumerate(missing))
    if not codes:
        return _skill_matrix(pd.Series([], dtype=object), vocab)
    return sp.vstack([rows[c] for c in codes], format="csr")


def _code_matrix(values: list[list[str]], width: int = MAX_CODES) -> np.ndarray:
    """Codes as int32 (halves the batch's gathers and divisions), padded with -1 (never a real code)."""
    out = np.full((len(values), width), -1, dtype=np.int32)
    for r, codes in enumerate(values):
        for c, code in enumerate(list(dict.fromkeys(codes))[:width]):
            out[r, c] = int(code)
    return out


def _column(table: Participants | Openings, name: str) -> np.ndarray:
    """A column as an array, once per table (pandas' column lookup costs more than most
    criteria on a live request's pairs). Kept in `_columns`, which a view with other columns
    (`Participants.employer_view`) or a slimmed copy (`_strip`) does not inherit."""
    cols = table.__dict__.get("_columns")
    if cols is None:
        cols = table.__dict__["_columns"] = {}
    hit = cols.get(name)
    if hit is None:
        hit = cols[name] = table.frame[name].to_numpy()
    return hit


@dataclass
class Participants:
    frame: pd.DataFrame  # one row per participant, schema columns + lat/lon

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def ids(self) -> np.ndarray:
        return self.frame["participant_id"].to_numpy()

    @cached_property
    def index(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    @cached_property
    def need_mask(self) -> np.ndarray:
        return bitmask(self.frame["adaptation_needs"], NEED_CODES)

    @cached_property
    def needs_assessed(self) -> np.ndarray:
        """Whose adaptation needs may be weighed: everyone's in the adviser's view; in the
        employer-facing view only those who consented to share them (see `employer_view`)."""
        return np.ones(len(self.frame), dtype=bool)

    #: Employer-facing view: placed at the centre of the home area (see `employer_view`).
    located_by_area: bool = False

    @cached_property
    def licence_mask(self) -> np.ndarray:
        return bitmask(self.frame["driving_licences"], LICENCES)

    @cached_property
    def desired_codes(self) -> np.ndarray:
        return _code_matrix(list(self.frame["desired_styrk08"]))

    @cached_property
    def experience(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, years) padded matrices, one column per distinct code (years of repeated
        entries summed, in order of first appearance), so reasons never name a code twice."""
        exp = list(self.frame["experience"])
        codes = np.full((len(exp), MAX_CODES), -1, dtype=np.int32)
        years = np.zeros((len(exp), MAX_CODES), dtype=float)
        for r, items in enumerate(exp):
            per_code: dict[int, float] = {}
            for item in items or []:
                code = int(item["styrk08"])
                per_code[code] = per_code.get(code, 0.0) + float(item["years"])
            for c, (code, y) in enumerate(list(per_code.items())[:MAX_CODES]):
                codes[r, c] = code
                years[r, c] = y
        return codes, years

    @cached_property
    def norwegian_rank(self) -> np.ndarray:
        return _codes(self.frame["norwegian_level"], schema.NORWEGIAN_LEVELS)

    @cached_property
    def education_rank(self) -> np.ndarray:
        return _codes(self.frame["education_level"], schema.EDUCATION_LEVELS)

    @cached_property
    def lat(self) -> np.ndarray:
        return self.frame["lat"].to_numpy(float)

    @cached_property
    def lon(self) -> np.ndarray:
        return self.frame["lon"].to_numpy(float)

    @cached_property
    def rad_lat(self) -> np.ndarray:
        return np.radians(self.lat)

    @cached_property
    def rad_lon(self) -> np.ndarray:
        return np.radians(self.lon)

    @cached_property
    def cos_lat(self) -> np.ndarray:
        return np.cos(self.rad_lat)

    @cached_property
    def max_commute_km(self) -> np.ndarray:
        return self.frame["max_commute_km"].to_numpy(float)

    @cached_property
    def goal_code(self) -> np.ndarray:
        """Goal as an int: 0 job, 1 trial placement, 2 either (compared per pair in blocking)."""
        return _goal_code(self.frame["goal"])

    @cached_property
    def industry_mask(self) -> np.ndarray:
        """Preferred NACE sections as a bitmask (encoded once, not once per scored shard)."""
        return bitmask(self.frame["preferred_industries"], NACE_SECTIONS)

    @cached_property
    def id_rank(self) -> np.ndarray:
        """Position of each id in sorted order."""
        return _id_rank(self.ids)

    @cached_property
    def available_ord(self) -> np.ndarray:
        """`available_from` as an ordinal; no date (available now) → 0."""
        return _ordinals(self.frame["available_from"], 0)

    @cached_property
    def tie_rank(self) -> np.ndarray:
        """The top-k tie-break of an opening's candidates with equal shown scores: available
        sooner first (no date = now), then the id. Ranks within this table; a subset of the
        rows keeps their relative order."""
        return _tie_rank((self.available_ord,), self.ids)

    def skills(self, vocab: dict[str, int]) -> sp.csr_matrix:
        return _skill_matrix(self.frame["skills"], vocab)

    @cached_property
    def listed_skills(self) -> np.ndarray:
        return np.array([len(s or ()) for s in self.frame["skills"]], dtype=np.int64)

    @cached_property
    def inferred_sources(self) -> np.ndarray:
        """STYRK codes whose typical skills the participant very likely has, -1 padded: every
        occupation with experience, most years first; with no experience, the first desired
        one. All of them, not only the longest, so that adding experience (a longer job
        elsewhere included) only ever adds skills. Set for every profile, listing skills or
        not, so a listed skill only ever adds to what is inferred (listing a first skill must
        not lower a score)."""
        codes, years = self.experience  # both padded to MAX_CODES columns
        order = np.argsort(-years, axis=1, kind="stable")
        codes = np.take_along_axis(codes, order, axis=1).astype(np.int64)
        years = np.take_along_axis(years, order, axis=1)
        codes = np.where((years > 0) & (codes >= 0), codes, -1)
        has_exp = np.asarray((codes >= 0).any(axis=1))
        wish = np.full_like(codes, -1)
        wish[:, 0] = self.desired_codes[:, 0]
        return np.where(has_exp[:, None], codes, wish)

    @cached_property
    def inferred_from(self) -> np.ndarray:
        """The first of ``inferred_sources`` (-1: none): the reasons' main source."""
        return self.inferred_sources[:, 0]

    def inferred_sources_text(self, rows: np.ndarray) -> np.ndarray:
        """``inferred_sources`` of some participants as "4321|8344", for the reasons (only the
        rows a reason quotes: at national scale a string per participant is seconds of work
        and memory every batch worker would receive for nothing)."""
        # Once per distinct participant: a batch quotes each one's first 20 pairs.
        distinct, at = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
        src = self.inferred_sources[distinct]
        text = np.array(["|".join(str(c) for c in row if c >= 0) for row in src.tolist()], dtype=object)
        return text[np.asarray(at).reshape(-1)]

    def inferred_skills(self, vocab: dict[str, int]) -> sp.csr_matrix:
        """Union of the typical skills of ``inferred_sources``: (participant × code) indicator
        times (code × skill) typical skills, so the work is per distinct code, not per row."""
        src = self.inferred_sources
        codes = np.unique(src[src >= 0])
        typical = _typical_skills(codes.tolist(), vocab)
        r, c = np.nonzero(src >= 0)
        who = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, np.searchsorted(codes, src[r, c]))), shape=(len(src), len(codes)))
        out = (who @ typical).tocsr()
        out.data[:] = 1.0
        return out

    def col(self, name: str) -> np.ndarray:
        return _column(self, name)

    @cached_property
    def home_area(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, radius km) of each participant's home area (matching/taxonomy/areas.py):
        every home in it lies within the radius of the centre."""
        return areas.locate(self.frame["postal_code"].to_numpy(dtype=str), self.lat, self.lon)

    @cached_property
    def area_radius_km(self) -> np.ndarray:
        return self.home_area[2]

    @cached_property
    def needs_shared(self) -> frozenset[str]:
        """Ids of those who consented to share adaptation needs with employers: whose needs an
        employer-facing ranking may weigh (the same in every view of a snapshot)."""
        return frozenset(self.ids[self.frame["shares_needs_with_employers"].to_numpy(dtype=bool)].tolist())

    def employer_view(self) -> Participants:
        """The same participants as employer-facing ranking may see them (issue 9):

        - placed at the centre of their home area (>= 10 residential postal codes), for the
          commute constraint, the distance level and the quoted band alike, so nothing an
          employer-facing reader sees depends on where in that area someone lives;
        - adaptation needs only for those who consented to share them; for the others the
          adaptation criterion is not assessed (and their needs are not in this view at all).

        Every other encoding is shared with this object (no recomputation)."""
        consent = self.frame["shares_needs_with_employers"].to_numpy(dtype=bool)
        lat, lon, _ = self.home_area
        frame = self.frame.copy(deep=False)
        frame["lat"], frame["lon"] = lat, lon
        if "adaptation_needs" in frame:
            frame["adaptation_needs"] = [list(v or ()) if c else [] for v, c in zip(frame["adaptation_needs"], consent)]
        view = Participants(frame)
        view.__dict__.update(
            {
                k: v
                for k, v in self.__dict__.items()
                if k not in _LOCATED | {"frame", "need_mask", "needs_assessed", "located_by_area", "_columns"}
            }
        )
        view.__dict__["need_mask"] = np.where(consent, self.need_mask, 0)
        view.__dict__["needs_assessed"] = consent
        view.located_by_area = True
        return view


#: Participant encodings that depend on where they are placed (recomputed for a view).
_LOCATED = frozenset({"lat", "lon", "rad_lat", "rad_lon", "cos_lat"})


@dataclass
class Openings:
    frame: pd.DataFrame  # one row per opening, joined with its employer
    #: The employers' contact caps and contact history (`matching.contacts`): what the
    #: responsiveness criterion and the remaining contacts are computed from.
    history: EmployerHistory = field(default_factory=EmployerHistory.empty)

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def employer_row(self) -> np.ndarray:
        """Each opening's employer row in `history` (-1: its employer has no row there)."""
        if "orgnr" not in self.frame:
            return np.full(len(self.frame), -1, dtype=np.int64)
        return self.history.rows_of(self.frame["orgnr"].to_numpy(dtype=object))

    @cached_property
    def ids(self) -> np.ndarray:
        return self.frame["opening_id"].to_numpy()

    @cached_property
    def index(self) -> dict[str, int]:
        return {oid: i for i, oid in enumerate(self.ids)}

    @cached_property
    def offered_mask(self) -> np.ndarray:
        """Adaptations offered: the employer's plus the opening's own."""
        return bitmask(self.frame["adaptations_all"], NEED_CODES)

    @cached_property
    def licence_mask(self) -> np.ndarray:
        return bitmask(self.frame["required_licences"], LICENCES)

    @cached_property
    def code(self) -> np.ndarray:
        return self.frame["styrk08"].astype(np.int32).to_numpy()

    @cached_property
    def norwegian_rank(self) -> np.ndarray:
        return _codes(self.frame["min_norwegian"], schema.NORWEGIAN_LEVELS)

    @cached_property
    def education_rank(self) -> np.ndarray:
        return _codes(self.frame["min_education"], schema.EDUCATION_LEVELS)

    @cached_property
    def deadline_ord(self) -> np.ndarray:
        """Deadline as a proleptic ordinal; no deadline → a very large value."""
        return np.array([d.toordinal() if isinstance(d, dt.date) else 10**7 for d in self.frame["deadline"]])

    @cached_property
    def is_open(self) -> np.ndarray:
        return (self.frame["status"] == schema.OpeningStatus.open.value).to_numpy()

    @cached_property
    def is_trial(self) -> np.ndarray:
        return (self.frame["kind"] == schema.Kind.trial.value).to_numpy()

    @cached_property
    def lat(self) -> np.ndarray:
        return self.frame["lat"].to_numpy(float)

    @cached_property
    def lon(self) -> np.ndarray:
        return self.frame["lon"].to_numpy(float)

    @cached_property
    def rad_lat(self) -> np.ndarray:
        return np.radians(self.lat)

    @cached_property
    def rad_lon(self) -> np.ndarray:
        return np.radians(self.lon)

    @cached_property
    def cos_lat(self) -> np.ndarray:
        return np.cos(self.rad_lat)

    @cached_property
    def kind_code(self) -> np.ndarray:
        """Kind as an int: 0 job, 1 trial placement (the participants' goal_code scale)."""
        return _goal_code(self.frame["kind"])

    @cached_property
    def section_index(self) -> np.ndarray:
        """NACE section as its index in NACE_SECTIONS."""
        pos = {s: i for i, s in enumerate(NACE_SECTIONS)}
        return np.array([pos[s] for s in self.frame["nace_section"]], dtype=np.int64)

    @cached_property
    def id_rank(self) -> np.ndarray:
        return _id_rank(self.ids)

    @cached_property
    def start_ord(self) -> np.ndarray:
        """`start_date` as an ordinal; no start date → 0."""
        return _ordinals(self.frame["start_date"], 0)

    @cached_property
    def tie_rank(self) -> np.ndarray:
        """The top-k tie-break of a participant's openings with equal shown scores, evidence an
        adviser sees: the earlier application deadline first (none last), then the employer's
        better inclusion record (`criteria.inclusion.smoothed_rate` of hires after trial
        placements), then the id."""
        from matching.criteria.inclusion import smoothed_rate  # the criteria import this module

        rate = smoothed_rate(self.frame["past_hires_after_trial"].to_numpy(float), self.frame["past_trial_placements"].to_numpy(float))
        return _tie_rank((self.deadline_ord, -np.asarray(rate, dtype=float)), self.ids)

    def skills(self, vocab: dict[str, int], column: str = "required_skills") -> sp.csr_matrix:
        return _skill_matrix(self.frame[column], vocab)

    def col(self, name: str) -> np.ndarray:
        return _column(self, name)


@dataclass
class World:
    participants: Participants
    openings: Openings
    skill_vocab: dict[str, int] = field(default_factory=dict)

    @cached_property
    def participant_skills(self) -> sp.csr_matrix:
        return self.participants.skills(self.skill_vocab)

    @cached_property
    def likely_skills(self) -> sp.csr_matrix:
        """Stated skills together with the skills typical of the participant's occupations (a
        0/1 union, so a stated skill that is also typical counts once)."""
        union = self.participant_skills + self.participants.inferred_skills(self.skill_vocab)
        union.data[:] = 1.0
        return union.tocsr()

    @cached_property
    def required_skills(self) -> sp.csr_matrix:
        return self.openings.skills(self.skill_vocab, "required_skills")

    @cached_property
    def optional_skills(self) -> sp.csr_matrix:
        return self.openings.skills(self.skill_vocab, "optional_skills")

    def prepared(self) -> World:
        """Every cached encoding computed now (this snapshot's own and its tables'), so batch
        workers receive them with the snapshot instead of each recomputing them."""
        for obj in (self, self.participants, self.openings):
            for name, attr in vars(type(obj)).items():
                if isinstance(attr, cached_property) and name not in _DERIVED_VIEWS:
                    getattr(obj, name)
        return self

    def slim(self) -> World:
        """The batch's copy: every encoding prepared, then the list-valued columns (already
        encoded) and the id → row dicts dropped. Those Python objects are most of a national
        snapshot's memory, and the parent and each worker hold a copy. Scoring reads only
        scalar columns and encodings; a criterion that reads a list column per pair would
        fail here loudly (KeyError), and the batch-vs-live tests would catch it."""
        self.prepared()
        out = World(_strip(self.participants), _strip(self.openings), self.skill_vocab)
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("participants", "openings", *_DERIVED_VIEWS)})
        return out

    @cached_property
    def employer_view(self) -> World:
        """This snapshot as employer-facing ranking (opening → candidates) sees it: the same
        openings, participants as in `Participants.employer_view` (built once per snapshot)."""
        view = World(self.participants.employer_view(), self.openings, self.skill_vocab)
        # Encodings of skills and openings are the same in both views: share, don't rebuild.
        view.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("participants", "openings", *_DERIVED_VIEWS)})
        return view

    def with_participants(self, participants: Participants) -> World:
        """Same openings (and their cached encodings), other participants."""
        world = World(participants, self.openings, self.skill_vocab)
        for name in ("required_skills", "optional_skills"):  # openings-only: rebuilding cost 3 s at 50k
            if name in self.__dict__:
                world.__dict__[name] = self.__dict__[name]
        return world


#: World attributes that are views of the snapshot, not encodings of it: built on demand
#: (each batch worker derives its own from the slim snapshot it receives), and its blocking
#: index (candidates.index), which belongs to this very World and is never copied to another.
_DERIVED_VIEWS = ("employer_view", "_view_holds", "_blocking", "needs_shared")


def _strip(table):
    frame = table.frame
    keep = [c for c in frame.columns if not (frame[c].dtype == object and any(isinstance(v, list | dict) for v in frame[c].head(50)))]
    out = type(table)(frame[keep])
    out.__dict__.update({k: v for k, v in table.__dict__.items() if k not in ("frame", "index", "_columns")})
    return out


def _vocab(*series: pd.Series) -> dict[str, int]:
    values = sorted({s for col in series for items in col for s in (items or ())})
    return {s: i for i, s in enumerate(values)}


#: A participant row as the snapshot holds it: the data contract's fields and the coordinates.
PARTICIPANT_COLUMNS: list[str] = [*schema.Participant.model_fields, "lat", "lon"]


def participants_from_records(records: list[dict[str, Any]]) -> Participants:
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame(columns=PARTICIPANT_COLUMNS)
    return Participants(frame.reset_index(drop=True))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a snapshot is read and encoded (reference
    counting still frees everything acyclic). Decoding a national snapshot creates millions
    of lists and dicts that all survive, and each creation-triggered collection rescanned
    them all: 9.7 of the 300k snapshot's 12.9 CPU s were spent reading it with collection
    on, 3.7 with it paused. Process-wide, so it is switched back on only by the block that
    switched it off."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def skill_vocabulary(openings: pd.DataFrame) -> dict[str, int]:
    """Skills that openings ask for: participant skills outside it can never count."""
    if openings.empty:
        return {}
    return _vocab(openings["required_skills"], openings["optional_skills"])
