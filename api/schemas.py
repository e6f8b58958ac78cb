"""Request and response bodies (the API's contract; `matching.schema` is the data's).

Every route declares one of these as `response_model`, so the OpenAPI document at /docs is
exact and nothing outside them (e.g. a stored column added later) leaks into a response.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matching.schema import Event

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="items matching the filters, before limit/offset")


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    database: Literal["ok", "unreachable"]
    serving_run_id: str | None
    model_version: str | None


# ----------------------------------------------------------------------------- participants


class Experience(BaseModel):
    styrk08: str
    years: float


class ParticipantSummary(BaseModel):
    """What a list shows: no adaptation needs, no trusted person."""

    participant_id: str
    office_id: str
    registered_at: dt.date
    postal_code: str
    goal: str
    desired_titles: list[str]
    desired_styrk08: list[str]
    max_commute_km: float
    available_from: dt.date | None


class ParticipantDetail(ParticipantSummary):
    """The whole stored profile (adviser of the participant's office, admin)."""

    skills: list[str]
    experience: list[Experience]
    education_level: str
    norwegian_level: str
    driving_licences: list[str]
    max_hours_per_week: float
    wants_part_time: bool
    adaptation_needs: list[str] = Field(description="adaptation-need codes (health-related)")
    shares_needs_with_employers: bool
    preferred_industries: list[str]
    trusted_person: str | None


# ----------------------------------------------------------------------------- matches


class Reason(BaseModel):
    feature: str
    effect: Literal["+", "-"]
    contribution: float = Field(description="this feature's additive share of the raw score")
    text: str


class Match(BaseModel):
    rank: int = Field(ge=1)
    opening_id: str
    kind: str
    title: str
    employer_name: str
    distance_km: float | None
    score: float = Field(ge=0, le=1)
    new_since_last_run: bool
    reasons: list[Reason]


class Matches(BaseModel):
    participant_id: str | None
    run_id: str | None = Field(description="the published batch run read; null when computed live")
    model_version: str
    matches: list[Match]


class FeatureRow(BaseModel):
    feature: str
    description: str
    level: int
    level_label: str
    values: dict[str, Any] | None
    contribution: float
    effect: Literal["+", "-"]
    text: str


class FailedConstraint(BaseModel):
    constraint: str
    reason: str


class ConstraintInfo(BaseModel):
    constraint: str
    description: str


class PairExplanation(BaseModel):
    participant_id: str
    opening_id: str
    model_version: str
    eligible: bool = Field(description="passes every hard constraint (would be listed)")
    failed_constraints: list[FailedConstraint]
    score: float = Field(ge=0, le=1)
    raw_score: float
    intercept: float
    features: list[FeatureRow] = Field(description="intercept + Σ contribution == raw_score")
    constraints: list[ConstraintInfo]


# ----------------------------------------------------------------------------- openings


class OpeningSummary(BaseModel):
    opening_id: str
    orgnr: str
    employer_name: str
    title: str
    kind: str
    styrk08: str
    status: str
    office_id: str
    postal_code: str
    hours_per_week: float
    positions: int
    deadline: dt.date | None
    published_at: dt.date


class OpeningDetail(OpeningSummary):
    styrk08_source: str
    required_skills: list[str]
    optional_skills: list[str]
    required_licences: list[str]
    min_norwegian: str
    min_education: str
    start_date: dt.date | None
    adaptations_offered: list[str] = Field(description="offered for this opening on top of the employer's")
    employer_adaptations: list[str]


class Candidate(BaseModel):
    rank: int = Field(ge=1)
    participant_id: str
    score: float = Field(ge=0, le=1)
    reasons: list[Reason]


class Candidates(BaseModel):
    opening_id: str
    run_id: str | None
    model_version: str
    candidates: list[Candidate]


# ----------------------------------------------------------------------------- feedback, audit, runs


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    participant_id: str = Field(min_length=1, max_length=40)
    opening_id: str = Field(min_length=1, max_length=40)
    event: Event
    reason: str | None = Field(default=None, max_length=2000)
    occurred_at: dt.datetime | None = Field(default=None, description="default: now (UTC); 2000-01-01 … tomorrow")

    @field_validator("occurred_at")
    @classmethod
    def _plausible_time(cls, v: dt.datetime | None) -> dt.datetime | None:
        """Events are training data: a year-1 or year-9999 event would skew the time split
        (and near those limits a time-zone conversion overflows)."""
        if v is None:
            return v
        naive = v.replace(tzinfo=None)
        if not dt.datetime(2000, 1, 1) <= naive <= dt.datetime.now() + dt.timedelta(days=1):
            raise ValueError("must be between 2000-01-01 and tomorrow")
        return v


class FeedbackOut(BaseModel):
    event_id: str
    participant_id: str
    opening_id: str
    event: str
    reason: str | None
    occurred_at: dt.datetime
    actor: str


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    sub: str
    role: str
    action: str
    participant_id: str | None
    opening_id: str | None
    detail: str | None


class Run(BaseModel):
    run_id: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    as_of: dt.date
    model_version: str
    backend: str
    top_k: int
    n_participants: int | None
    n_openings: int | None
    n_pairs: int | None
    error: str | None
    serving: bool = Field(description="the run the API serves")
    previous: bool = Field(description="the run before it (basis of new_since_last_run)")


class Runs(Page[Run]):
    serving_run_id: str | None
    previous_run_id: str | None
