"""Row-level data contract for everything the engine stores.

The same models validate fixture files (`matching load`), API write bodies and generator
output, so an error is reported the same way wherever bad data enters. List-valued fields
arrive from CSV as `|`-separated strings; experience is `STYRK:years|STYRK:years`.
"""
from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from matching.taxonomy import adaptations, occupations, places

# --------------------------------------------------------------------------- enumerations


class Kind(StrEnum):
    job = "job"
    trial = "trial"  # arbeidstrening


class Goal(StrEnum):
    job = "job"
    trial = "trial"
    either = "either"


class OpeningStatus(StrEnum):
    open = "open"
    filled = "filled"
    closed = "closed"


class Event(StrEnum):
    suggested = "suggested"
    contacted = "contacted"
    interview = "interview"
    trial_started = "trial_started"
    hired = "hired"
    declined_by_participant = "declined_by_participant"
    declined_by_employer = "declined_by_employer"


#: Ordinal scales. Position in the tuple is the rank used by features and requirements.
NORWEGIAN_LEVELS: tuple[str, ...] = ("none", "A1", "A2", "B1", "B2", "C1", "native")
EDUCATION_LEVELS: tuple[str, ...] = (
    "none", "primary", "upper_secondary", "vocational", "bachelor", "master",
)
LICENCE_CLASSES: frozenset[str] = frozenset(
    {"AM", "A1", "A2", "A", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE", "T"}
)
NACE_SECTIONS: frozenset[str] = frozenset("ABCDEFGHIJKLMNOPQRSTU")
HOURS_FULL_TIME = 37.5

# --------------------------------------------------------------------------- field helpers


def _split_list(value: Any) -> Any:
    """Accept a real list (JSON) or a `|`-separated string (CSV)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


StrList = Annotated[list[str], BeforeValidator(_split_list)]
OptDate = Annotated[dt.date | None, BeforeValidator(_blank_to_none)]
OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]


def orgnr_is_valid(orgnr: str) -> bool:
    """Brønnøysund organisation number: 9 digits, weights 3 2 7 6 5 4 3 2, mod-11 check digit."""
    if not re.fullmatch(r"\d{9}", orgnr):
        return False
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    remainder = sum(int(d) * w for d, w in zip(orgnr[:8], weights)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(orgnr[8])


def _check_postal(code: str) -> str:
    code = code.strip()
    if not re.fullmatch(r"\d{4}", code):
        raise ValueError("must be a 4-digit Norwegian postal code")
    if not places.is_known(code):
        raise ValueError(f"unknown postal code {code!r} (not in the postal code register with coordinates)")
    return code


def _check_needs(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if not adaptations.is_known(c)]
    if unknown:
        known = ", ".join(sorted(adaptations.needs()))
        raise ValueError(f"unknown adaptation code(s) {unknown}; known codes: {known}")
    return sorted(set(codes))


def _check_styrk(codes: list[str]) -> list[str]:
    bad = [c for c in codes if not occupations.is_valid_code(c)]
    if bad:
        raise ValueError(f"unknown STYRK-08 code(s) {bad} (need 4-digit unit-group codes)")
    return codes


def _check_licences(codes: list[str]) -> list[str]:
    bad = [c for c in codes if c not in LICENCE_CLASSES]
    if bad:
        raise ValueError(f"unknown driving licence class(es) {bad}; known: {sorted(LICENCE_CLASSES)}")
    return sorted(set(codes))


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)


# --------------------------------------------------------------------------- entities


class Office(_Row):
    office_id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1, max_length=200)
    municipality_code: str = Field(pattern=r"^\d{4}$")
    postal_code: str

    _postal = field_validator("postal_code")(classmethod(lambda cls, v: _check_postal(v)))


class Employer(_Row):
    orgnr: str
    name: str = Field(min_length=1, max_length=200)
    nace: str = Field(pattern=r"^\d{2}\.\d{3}$", description="SN2007 subclass, e.g. 47.111")
    nace_section: str = Field(pattern=r"^[A-U]$")
    postal_code: str
    office_id: str = Field(min_length=1, max_length=40, description="office whose liaison staff own the relation")
    adaptations_offered: StrList = Field(default_factory=list)
    inclusive_workplace_agreement: bool = False
    past_trial_placements: int = Field(default=0, ge=0)
    past_hires_after_trial: int = Field(default=0, ge=0)
    # Lengths are the table columns' (PostgreSQL refuses longer text; SQLite would not).
    contact_name: OptStr = Field(default=None, max_length=200)
    contact_email: OptStr = Field(default=None, max_length=200)

    @field_validator("orgnr")
    @classmethod
    def _orgnr(cls, v: str) -> str:
        if not orgnr_is_valid(v):
            raise ValueError("organisation number must be 9 digits with a valid mod-11 check digit")
        return v

    _postal = field_validator("postal_code")(classmethod(lambda cls, v: _check_postal(v)))
    _needs = field_validator("adaptations_offered")(classmethod(lambda cls, v: _check_needs(v)))

    @model_validator(mode="after")
    def _hires_le_trials(self) -> Employer:
        if self.past_hires_after_trial > self.past_trial_placements:
            raise ValueError("past_hires_after_trial cannot exceed past_trial_placements")
        return self


class Opening(_Row):
    opening_id: str = Field(min_length=1, max_length=40)
    orgnr: str
    kind: Kind
    title: str = Field(min_length=2, max_length=200)
    styrk08: OptStr = Field(default=None, description="blank → normalised from the title")
    required_skills: StrList = Field(default_factory=list)
    optional_skills: StrList = Field(default_factory=list)
    required_licences: StrList = Field(default_factory=list)
    min_norwegian: str = "none"
    min_education: str = "none"
    hours_per_week: float = Field(gt=0, le=60)
    positions: int = Field(default=1, ge=1, le=500)
    postal_code: OptStr = Field(default=None, description="blank → the employer's")
    start_date: OptDate = None
    deadline: OptDate = None
    status: OpeningStatus = OpeningStatus.open
    adaptations_offered: StrList = Field(default_factory=list, description="on top of the employer's")
    office_id: str = Field(min_length=1, max_length=40)
    published_at: dt.date

    @field_validator("styrk08")
    @classmethod
    def _styrk(cls, v: str | None) -> str | None:
        return None if v is None else _check_styrk([v])[0]

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, v: str | None) -> str | None:
        return None if v is None else _check_postal(v)

    @field_validator("min_norwegian")
    @classmethod
    def _nor(cls, v: str) -> str:
        if v not in NORWEGIAN_LEVELS:
            raise ValueError(f"must be one of {list(NORWEGIAN_LEVELS)}")
        return v

    @field_validator("min_education")
    @classmethod
    def _edu(cls, v: str) -> str:
        if v not in EDUCATION_LEVELS:
            raise ValueError(f"must be one of {list(EDUCATION_LEVELS)}")
        return v

    _lic = field_validator("required_licences")(classmethod(lambda cls, v: _check_licences(v)))
    _needs = field_validator("adaptations_offered")(classmethod(lambda cls, v: _check_needs(v)))


class Experience(BaseModel):
    styrk08: str
    years: float = Field(ge=0, le=60)


def _parse_experience(value: Any) -> Any:
    """`5223:3|9321:1.5` → [{"styrk08": "5223", "years": 3}, ...]; lists pass through."""
    items = _split_list(value)
    if not isinstance(items, list | tuple):
        raise ValueError("must be a list of {styrk08, years} items, or STYRK:years|STYRK:years")
    out = []
    for item in items:
        if isinstance(item, str):
            code, sep, years = item.partition(":")
            if not sep:
                raise ValueError(f"experience item {item!r} must look like STYRK:years, e.g. 5223:3")
            out.append({"styrk08": code.strip(), "years": years.strip()})
        else:
            out.append(item)
    return out


class ParticipantProfile(_Row):
    """What an adviser knows about a participant; also the body of POST /v1/match."""

    postal_code: str
    max_commute_km: float = Field(gt=0, le=300)
    desired_titles: StrList = Field(min_length=1)
    desired_styrk08: StrList = Field(default_factory=list, description="blank → normalised from titles")
    skills: StrList = Field(default_factory=list)
    experience: Annotated[list[Experience], BeforeValidator(_parse_experience)] = Field(default_factory=list)
    education_level: str = "none"
    norwegian_level: str = "none"
    driving_licences: StrList = Field(default_factory=list)
    max_hours_per_week: float = Field(default=HOURS_FULL_TIME, gt=0, le=60)
    wants_part_time: bool = False
    available_from: OptDate = None
    goal: Goal = Goal.either
    adaptation_needs: StrList = Field(default_factory=list)
    shares_needs_with_employers: bool = False
    preferred_industries: StrList = Field(default_factory=list, description="NACE sections A-U")
    trusted_person: OptStr = Field(default=None, max_length=200)

    _postal = field_validator("postal_code")(classmethod(lambda cls, v: _check_postal(v)))
    _needs = field_validator("adaptation_needs")(classmethod(lambda cls, v: _check_needs(v)))
    _styrk = field_validator("desired_styrk08")(classmethod(lambda cls, v: _check_styrk(v)))
    _lic = field_validator("driving_licences")(classmethod(lambda cls, v: _check_licences(v)))

    @field_validator("experience")
    @classmethod
    def _exp(cls, v: list[Experience]) -> list[Experience]:
        _check_styrk([e.styrk08 for e in v])
        return v

    @field_validator("education_level")
    @classmethod
    def _edu(cls, v: str) -> str:
        if v not in EDUCATION_LEVELS:
            raise ValueError(f"must be one of {list(EDUCATION_LEVELS)}")
        return v

    @field_validator("norwegian_level")
    @classmethod
    def _nor(cls, v: str) -> str:
        if v not in NORWEGIAN_LEVELS:
            raise ValueError(f"must be one of {list(NORWEGIAN_LEVELS)}")
        return v

    @field_validator("preferred_industries")
    @classmethod
    def _nace(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in NACE_SECTIONS]
        if bad:
            raise ValueError(f"unknown NACE section(s) {bad}; use letters A-U")
        return sorted(set(v))


class Participant(ParticipantProfile):
    participant_id: str = Field(min_length=1, max_length=40)
    office_id: str = Field(min_length=1, max_length=40)
    registered_at: dt.date


class Outcome(_Row):
    event_id: OptStr = Field(default=None, max_length=64, description="blank → assigned on insert")
    participant_id: str = Field(min_length=1, max_length=40)
    opening_id: str = Field(min_length=1, max_length=40)
    event: Event
    reason: OptStr = None
    occurred_at: dt.datetime
    actor: str = Field(default="import", min_length=1, max_length=200)


#: File name → row model, in load order (later files reference earlier ones).
FILES: dict[str, type[_Row]] = {
    "offices.csv": Office,
    "employers.csv": Employer,
    "openings.csv": Opening,
    "participants.csv": Participant,
    "outcomes.csv": Outcome,
}
