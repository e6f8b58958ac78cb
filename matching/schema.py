"""Row-level data contract for everything the engine stores.

The same models validate fixture files (`matching load`), API write bodies and generator
output, so an error is reported the same way wherever bad data enters. List-valued fields
arrive from CSV as `|`-separated strings; experience is `STYRK:years|STYRK:years`.

Every bound is declared here, once, so it shows in the OpenAPI schema (`maxLength`,
`maxItems`, `pattern`): text is free of NUL and other control characters and lone surrogates
(`Text`), every string and every list has a size no real profile or opening reaches, and dates
must fall in a plausible window around "today" (`MATCHING_TODAY` when set, see
`matching.config.Settings.as_of`).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

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


class RunStatus(StrEnum):
    """A batch run's life (`runs.status`): running → publishing → published, later pruned once
    older than the runs kept; or failed (an error), or abandoned (killed, found by the next refresh)."""

    running = "running"
    publishing = "publishing"
    published = "published"
    failed = "failed"
    abandoned = "abandoned"
    pruned = "pruned"


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
    "none",
    "primary",
    "upper_secondary",
    "vocational",
    "bachelor",
    "master",
)
LICENCE_CLASSES: frozenset[str] = frozenset({"AM", "A1", "A2", "A", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE", "T"})
NACE_SECTIONS: frozenset[str] = frozenset("ABCDEFGHIJKLMNOPQRSTU")
HOURS_FULL_TIME = 37.5

# --------------------------------------------------------------------------- bounds

#: Plausible dates. Anything before EARLIEST_DATE is a typo or a placeholder (0001-01-01).
EARLIEST_DATE = dt.date(2000, 1, 1)
#: What has happened (registered_at, published_at, occurred_at) is at most this far after
#: today (time zones, a clock a little ahead); later is the future, i.e. wrong.
HAPPENED_TOLERANCE = dt.timedelta(days=1)
#: What is planned (deadline, start_date, available_from) is at most this far after today;
#: later is a placeholder such as 9999-12-31.
PLANNING_HORIZON = dt.timedelta(days=3 * 366)

#: Sizes no real profile or opening reaches, so a posted profile cannot hog the server.
MAX_TEXT = 200  # a name, title, skill, contact, trusted person, actor
MAX_REASON = 2000  # an outcome's free-text reason
MAX_CODE = 40  # an adaptation code, licence class, NACE section (as list items)
MAX_TITLES = 20  # desired titles, desired STYRK-08 codes
MAX_SKILLS = 50  # a participant's skills; an opening's required / optional skills
MAX_EXPERIENCE = 30  # experience entries
MAX_CODES = 30  # driving licences, adaptation needs / offers, preferred industries
#: A participant's age at registration, from the optional birth year: NAV's measures take people
#: from 16 (youth) to the pension age (67); a little slack either side for data entered late.
MIN_AGE_AT_REGISTRATION = 15
MAX_AGE_AT_REGISTRATION = 75
MAX_CONTACTS_PER_MONTH = 1000  # an employer's cap on contacts from NAV per calendar month

#: Formats (checked as `pattern`, so they are in the OpenAPI schema too).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"  # participant_id, opening_id (also the API's path ids)
OFFICE_ID_PATTERN = r"^[a-z0-9-]{1,40}$"
EVENT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
POSTAL_PATTERN = r"^[0-9]{4}$"
STYRK_PATTERN = r"^[0-9]{4}$"  # STYRK-08 unit group
ORGNR_PATTERN = r"^[0-9]{9}$"

# --------------------------------------------------------------------------- field helpers

#: C0 controls except tab, newline and carriage return; DEL and C1 controls; lone surrogates.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _check_text(value: str) -> str:
    """Refuse NUL, control characters and lone surrogates: they cannot be stored (PostgreSQL
    refuses NUL), encoded as UTF-8 (a surrogate crashes the encoder) or shown."""
    m = _BAD_CHARS.search(value)
    if m:
        ch = m.group()
        what = "a NUL character" if ch == "\x00" else "a lone surrogate" if "\ud800" <= ch <= "\udfff" else "a control character"
        raise ValueError(f"contains {what} (U+{ord(ch):04X} at position {m.start() + 1}); text must be printable Unicode")
    return value


def text(max_length: int = MAX_TEXT, *, min_length: int | None = None, pattern: str | None = None) -> Any:
    """A bounded string type free of NUL, control characters and lone surrogates."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern), AfterValidator(_check_text)]


#: Any text field (at most MAX_TEXT characters).
Text = text()


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


#: `|`-separated (CSV) or a JSON list; bound the number of items with Field(max_length=...).
StrList = Annotated[list[Text], BeforeValidator(_split_list)]
CodeList = Annotated[list[text(MAX_CODE)], BeforeValidator(_split_list)]
StyrkList = Annotated[list[text(4, pattern=STYRK_PATTERN)], BeforeValidator(_split_list)]
OptDate = Annotated[dt.date | None, BeforeValidator(_blank_to_none)]
OptStr = Annotated[Text | None, BeforeValidator(_blank_to_none)]

Id = text(40, pattern=ID_PATTERN)
OfficeId = text(40, pattern=OFFICE_ID_PATTERN)
PostalCode = text(4, pattern=POSTAL_PATTERN)
Orgnr = text(9, pattern=ORGNR_PATTERN)
Level = text(MAX_CODE)  # an education / Norwegian level, checked against its scale


def today(info: ValidationInfo | None = None) -> dt.date:
    """The date validation is relative to: the context's ``today`` (the loader passes it
    once per import), else the settings' (``MATCHING_TODAY`` when set, else the clock)."""
    ctx = info.context if info is not None else None
    if isinstance(ctx, dict) and isinstance(ctx.get("today"), dt.date):
        return ctx["today"]
    from matching.config import get_settings

    return get_settings().as_of()


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    return value


def _plausible(value: Any, info: ValidationInfo, ahead: dt.timedelta, why: str) -> Any:
    """A date from EARLIEST_DATE to today + ahead (None passes)."""
    if value is None:
        return value
    latest = today(info) + ahead
    if not EARLIEST_DATE <= _as_date(value) <= latest:
        raise ValueError(f"implausible date: must be between {EARLIEST_DATE} and {latest} ({why})")
    return value


def _happened(value: Any, info: ValidationInfo) -> Any:
    """A date that has happened: from EARLIEST_DATE to today + HAPPENED_TOLERANCE."""
    return _plausible(value, info, HAPPENED_TOLERANCE, "not in the future")


def _planned(value: Any, info: ValidationInfo) -> Any:
    """A planned date: from EARLIEST_DATE to today + PLANNING_HORIZON."""
    return _plausible(value, info, PLANNING_HORIZON, f"at most {PLANNING_HORIZON.days // 366} years ahead")


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
    if not re.fullmatch(POSTAL_PATTERN, code):
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
        hints = [
            f"{c} is an ISCO-08 code; STYRK-08 files it as {' or '.join(alt[:3])}" for c in bad if (alt := occupations.styrk_for_isco(c))
        ]
        hint = "; " + "; ".join(hints) if hints else ""
        raise ValueError(f"unknown STYRK-08 code(s) {bad} (need 4-digit unit-group codes{hint})")
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
    office_id: OfficeId
    name: Text = Field(min_length=1)
    municipality_code: text(4, pattern=r"^\d{4}$")
    postal_code: PostalCode

    _postal = field_validator("postal_code")(classmethod(lambda cls, v: _check_postal(v)))


class Employer(_Row):
    orgnr: Orgnr
    name: Text = Field(min_length=1)
    nace: text(6, pattern=r"^\d{2}\.\d{3}$") = Field(description="SN2007 subclass, e.g. 47.111")
    nace_section: text(1, pattern=r"^[A-U]$")
    postal_code: PostalCode
    office_id: OfficeId = Field(description="office whose liaison staff own the relation")
    adaptations_offered: CodeList = Field(default_factory=list, max_length=MAX_CODES)
    inclusive_workplace_agreement: bool = False
    past_trial_placements: int = Field(default=0, ge=0)
    past_hires_after_trial: int = Field(default=0, ge=0)
    #: Contacts from NAV ("contacted" outcome events on its openings) the employer accepts per
    #: calendar month; blank = no cap (`matching.contacts.remaining_contacts`).
    max_contacts_per_month: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, ge=1, le=MAX_CONTACTS_PER_MONTH, description="blank → no cap"
    )
    # Lengths are the table columns' (PostgreSQL refuses longer text; SQLite would not).
    contact_name: OptStr = None
    contact_email: OptStr = None

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
    opening_id: Id
    orgnr: Orgnr
    kind: Kind
    title: Text = Field(min_length=2)
    styrk08: Annotated[text(4, pattern=STYRK_PATTERN) | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, description="blank → normalised from the title"
    )
    required_skills: StrList = Field(default_factory=list, max_length=MAX_SKILLS)
    optional_skills: StrList = Field(default_factory=list, max_length=MAX_SKILLS)
    required_licences: CodeList = Field(default_factory=list, max_length=MAX_CODES)
    min_norwegian: Level = "none"
    min_education: Level = "none"
    hours_per_week: float = Field(gt=0, le=60)
    positions: int = Field(default=1, ge=1, le=500)
    postal_code: Annotated[PostalCode | None, BeforeValidator(_blank_to_none)] = Field(default=None, description="blank → the employer's")
    start_date: OptDate = None
    deadline: OptDate = None
    status: OpeningStatus = OpeningStatus.open
    adaptations_offered: CodeList = Field(default_factory=list, max_length=MAX_CODES, description="on top of the employer's")
    office_id: OfficeId
    published_at: dt.date

    _published = field_validator("published_at")(classmethod(lambda cls, v, info: _happened(v, info)))
    _planned_dates = field_validator("start_date", "deadline")(classmethod(lambda cls, v, info: _planned(v, info)))

    @model_validator(mode="after")
    def _deadline_after_publication(self) -> Opening:
        if self.deadline is not None and self.deadline < self.published_at:
            raise PydanticCustomError(
                "date_order",
                "deadline {deadline} is before published_at {published_at}",
                {"field": "deadline", "deadline": self.deadline.isoformat(), "published_at": self.published_at.isoformat()},
            )
        return self

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
    styrk08: text(4, pattern=STYRK_PATTERN)
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

    postal_code: PostalCode
    max_commute_km: float = Field(gt=0, le=300)
    desired_titles: StrList = Field(min_length=1, max_length=MAX_TITLES)
    desired_styrk08: StyrkList = Field(default_factory=list, max_length=MAX_TITLES, description="blank → normalised from titles")
    skills: StrList = Field(default_factory=list, max_length=MAX_SKILLS)
    experience: Annotated[list[Experience], BeforeValidator(_parse_experience)] = Field(default_factory=list, max_length=MAX_EXPERIENCE)
    education_level: Level = "none"
    norwegian_level: Level = "none"
    driving_licences: CodeList = Field(default_factory=list, max_length=MAX_CODES)
    max_hours_per_week: float = Field(default=HOURS_FULL_TIME, gt=0, le=60)
    wants_part_time: bool = False
    available_from: OptDate = None
    goal: Goal = Goal.either
    adaptation_needs: CodeList = Field(default_factory=list, max_length=MAX_CODES)
    shares_needs_with_employers: bool = False
    preferred_industries: CodeList = Field(default_factory=list, max_length=MAX_CODES, description="NACE sections A-U")
    trusted_person: OptStr = None

    _available = field_validator("available_from")(classmethod(lambda cls, v, info: _planned(v, info)))

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
    participant_id: Id
    office_id: OfficeId
    registered_at: dt.date
    #: The adviser following this participant (a token `sub`); blank = not assigned yet.
    adviser_id: Annotated[text(200) | None, BeforeValidator(_blank_to_none)] = None
    #: Optional; used only to report by age band (matching/fairness.py). Age is never a matching
    #: criterion: no criterion, feature or blocking rule reads it.
    birth_year: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(
        default=None,
        ge=1900,
        description=f"optional; aged {MIN_AGE_AT_REGISTRATION}–{MAX_AGE_AT_REGISTRATION} at registration; "
        "for fairness reporting only, never a matching criterion",
    )

    _registered = field_validator("registered_at")(classmethod(lambda cls, v, info: _happened(v, info)))

    @field_validator("birth_year")
    @classmethod
    def _birth_year(cls, v: int | None, info: ValidationInfo) -> int | None:
        registered = info.data.get("registered_at")
        if v is None or registered is None:
            return v
        age = registered.year - v
        if not MIN_AGE_AT_REGISTRATION <= age <= MAX_AGE_AT_REGISTRATION:
            raise ValueError(
                f"implausible birth year: {age} years old at registration ({registered}); "
                f"must be {MIN_AGE_AT_REGISTRATION}–{MAX_AGE_AT_REGISTRATION}"
            )
        return v


class Outcome(_Row):
    event_id: Annotated[text(64, pattern=EVENT_ID_PATTERN) | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, description="blank → assigned on insert"
    )
    participant_id: Id
    opening_id: Id
    event: Event
    reason: Annotated[text(MAX_REASON) | None, BeforeValidator(_blank_to_none)] = None
    occurred_at: dt.datetime
    actor: Text = Field(default="import", min_length=1)

    _occurred = field_validator("occurred_at")(classmethod(lambda cls, v, info: _happened(v, info)))


#: File name → row model, in load order (later files reference earlier ones).
FILES: dict[str, type[_Row]] = {
    "offices.csv": Office,
    "employers.csv": Employer,
    "openings.csv": Opening,
    "participants.csv": Participant,
    "outcomes.csv": Outcome,
}
