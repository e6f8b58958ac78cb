"""Request and response bodies (the API's contract; `matching.schema` is the data's).

Every route declares one of these as `response_model`, so the OpenAPI document at /docs is
exact and nothing outside them (e.g. a stored column added later) leaks into a response.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from matching import schema as contract
from matching.schema import (
    ID_PATTERN,
    OFFICE_ID_PATTERN,
    ORGNR_PATTERN,
    POSTAL_PATTERN,
    STYRK_PATTERN,
    Event,
    RunStatus,
)

T = TypeVar("T")

# ----------------------------------------------------------------------------- field formats

#: Participant and opening ids as stored ("P-000001", "O-00001"): an ASCII letter or digit, then
#: letters, digits, '.', '_', '-'; at most 40 characters (the column width).
# One set of formats: the data contract's (what the loader accepts is what the API accepts).
POSTAL_CODE_PATTERN, STYRK08_PATTERN = POSTAL_PATTERN, STYRK_PATTERN

ParticipantId = Annotated[str, Field(pattern=ID_PATTERN, examples=["P-000001"])]
OpeningId = Annotated[str, Field(pattern=ID_PATTERN, examples=["O-00001"])]
OfficeId = Annotated[str, Field(pattern=OFFICE_ID_PATTERN, examples=["nav-heimdal"])]
PostalCode = Annotated[str, Field(pattern=POSTAL_CODE_PATTERN, examples=["7030"])]
Styrk08 = Annotated[str, Field(pattern=STYRK08_PATTERN, description="STYRK-08 unit group", examples=["5223"])]
Orgnr = Annotated[str, Field(pattern=ORGNR_PATTERN, description="organisation number", examples=["942110464"])]

#: Path parameters, validated the same way (422 naming the parameter otherwise).
ParticipantIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="participant id", examples=["P-000001"])]
OpeningIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="opening id", examples=["O-00001"])]


def _assume_utc(value: Any) -> Any:
    """Times are stored as naive UTC; in a response they say so (`…Z`)."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


#: A date-time in a response: always with a time zone (UTC).
UtcDateTime = Annotated[AwareDatetime, BeforeValidator(_assume_utc)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="items matching the filters, before limit/offset")


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    database: Literal["ok", "unreachable"]
    serving_run_id: str | None
    model_version: str | None


# ----------------------------------------------------------------------------- participants


class ParticipantProfile(contract.ParticipantProfile):
    """The body of POST /v1/match: a profile, in the shape GET /v1/participants/{id} returns
    it. The stored participant's own fields (id, office, registration date, adviser) are
    accepted so that a profile read can be posted back changed. Nothing is stored and the match
    depends on none of them but the office: the openings its office lists count as the
    participant's own office's (`matching.criteria.office`); none do without one."""

    participant_id: str | None = Field(default=None, max_length=40)
    office_id: str | None = Field(default=None, max_length=40)
    registered_at: dt.date | None = None
    adviser_id: str | None = Field(default=None, max_length=200)
    birth_year: int | None = Field(default=None, ge=1900, le=2100, description="accepted and ignored: age is never matched on")

    def profile(self) -> contract.ParticipantProfile:
        """The profile alone (the fields the engine reads)."""
        fields = contract.ParticipantProfile.model_fields
        return contract.ParticipantProfile.model_construct(**{k: getattr(self, k) for k in fields})


class Experience(BaseModel):
    styrk08: Styrk08
    years: float


class ParticipantSummary(BaseModel):
    """What a list shows: no adaptation needs, no trusted person."""

    participant_id: ParticipantId
    office_id: OfficeId
    registered_at: dt.date
    postal_code: PostalCode
    goal: Literal["job", "trial", "either"]
    desired_titles: list[str]
    desired_styrk08: list[Styrk08]
    max_commute_km: float
    available_from: dt.date | None
    adviser_id: str | None = Field(default=None, description="the adviser following them (a token `sub`)")


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
    preferred_industries: list[Annotated[str, Field(pattern=r"^[A-U]$")]] = Field(description="NACE sections")
    trusted_person: str | None
    birth_year: int | None = Field(default=None, description="optional; for fairness reporting only, never a matching criterion")


# ----------------------------------------------------------------------------- matches


SCORE_DOC = "the model's probability, to 3 decimals: lists are ranked by the score as shown"
TIED_DOC = "the score equals the entry above's (a tie): tied entries are ordered by {order}, the same in stored and live lists"
OPENING_TIE_ORDER = (
    "the earlier application deadline (none last), then the employer's better inclusion record "
    "(smoothed share of trial placements ending in a hire), then the opening id"
)
PARTICIPANT_TIE_ORDER = "the earlier availability date (none = available now, first), then the participant id"
EFFECT = (
    '"+": better than the criterion\'s neutral level, "-": worse, "0": at it '
    "(the requirement met, the employer's record at the prior, no industry wish, …)"
)
WEAK = (
    "no recommendation, only a listing: the model gives the pair a lower chance of reaching an interview "
    "than the average suggestion in the outcome history it was trained on had (the model card's "
    "training_data positives / pairs)"
)


class Reason(BaseModel):
    feature: str
    effect: Literal["+", "-", "0"] = Field(description=EFFECT)
    contribution: float = Field(description="this feature's additive share of the raw score, relative to the criterion's neutral level")
    text: str


class SimilarOpening(BaseModel):
    opening_id: OpeningId
    title: str


SIMILAR = (
    "other openings at the same employer, of the same kind, alike to this one on every criterion "
    "(the same level of each, so the same score and reasons), best-ranked first: one entry instead "
    "of several tied ones; empty when there are none"
)


class AllocationNote(BaseModel):
    """Why an opening is in the participant's recommended-now list, or held back from it."""

    recommended_now: bool = Field(description="in the recommended-now list of the served run")
    others_suggested: int = Field(ge=0, description="other participants whose recommended-now list holds this opening")
    free_places: int = Field(ge=0, description="positions (trial placement: concurrent places) minus active trials / hires")
    reason: str = Field(description="in the response's language")
    full_now: bool | None = Field(
        default=None,
        description="no room now: no free place, or every free place spoken for by people already in process with it "
        "(MATCHING_ALLOC_HOLD_AT); never recommended now, it stays in the personal list (null: a run before this was noted)",
    )
    in_process: int | None = Field(
        default=None, ge=0, description="people in process with this opening at the run (suggested, contacted or interviewing)"
    )


class RoomNote(BaseModel):
    """The head of a recommended-now list left short because the best fits have no room now."""

    nothing_with_room: bool = Field(description="the list is empty: nothing with room nearby now; the best fits are full")
    with_room: int = Field(ge=0, description="openings with room now in the recommended-now list")
    held_back_full: int = Field(ge=0, description="openings of the personal top 10 held back because they have no room now")
    message: str = Field(description="in the response's language")


class Match(BaseModel):
    rank: int = Field(ge=1)
    opening_id: OpeningId
    kind: Literal["job", "trial"]
    title: str
    employer_name: str
    distance_km: float | None
    score: float = Field(ge=0, le=1, description=SCORE_DOC)
    tied_with_previous: bool = Field(description=TIED_DOC.format(order=OPENING_TIE_ORDER))
    new_since_last_run: bool
    weak: bool = Field(description=WEAK)
    similar_openings: list[SimilarOpening] = Field(description=SIMILAR)
    reasons: list[Reason] = Field(
        description="headline reasons: what sets this entry apart from the others in the list; a covered adaptation need first"
    )
    allocation: AllocationNote | None = Field(
        default=None,
        description="the served run's recommended-now step on this opening (issue 14); null when the run made no note on it",
    )


class Matches(BaseModel):
    participant_id: ParticipantId | None
    run_id: str | None = Field(description="the published batch run read; null when computed live")
    model_version: str
    view: Literal["personal", "recommended"] = Field(default="personal", description="which list: see the `view` parameter")
    matches: list[Match]
    room: RoomNote | None = Field(
        default=None,
        description="view=recommended: set when openings with no room now left the recommended-now list short or empty "
        "(null otherwise, and in the personal view)",
    )
    held_back: list[Match] | None = Field(
        default=None,
        description="view=recommended: the best fits of the personal top 10 held back because they have no room now, in "
        "personal order (`rank` among them), each with its `allocation` note; not recommended now (null in the personal view)",
    )


class FeatureRow(BaseModel):
    feature: str
    label: str = Field(description="the criterion's name in the response's language")
    description: str
    level: int
    level_label: str
    values: dict[str, Any] | None = Field(description="what the text quotes: labels, ISO dates, codes as strings")
    contribution: float = Field(description="relative to the criterion's neutral level (0 there)")
    effect: Literal["+", "-", "0"] = Field(description=EFFECT)
    text: str


class FailedConstraint(BaseModel):
    constraint: str
    reason: str


class ConstraintInfo(BaseModel):
    constraint: str
    description: str


class PairExplanation(BaseModel):
    participant_id: ParticipantId
    opening_id: OpeningId
    model_version: str
    eligible: bool = Field(description="passes every hard constraint (would be listed)")
    failed_constraints: list[FailedConstraint]
    score: float = Field(ge=0, le=1)
    raw_score: float
    intercept: float = Field(description="the raw score of a pair at every criterion's neutral level")
    weak: bool = Field(description=WEAK)
    features: list[FeatureRow] = Field(description="intercept + Σ contribution == raw_score (to rounding)")
    constraints: list[ConstraintInfo]


# ----------------------------------------------------------------------------- openings


class OpeningSummary(BaseModel):
    opening_id: OpeningId
    orgnr: Orgnr
    employer_name: str
    title: str
    kind: Literal["job", "trial"]
    styrk08: Styrk08
    status: Literal["open", "filled", "closed"]
    office_id: OfficeId
    postal_code: PostalCode
    hours_per_week: float
    positions: int
    deadline: dt.date | None
    published_at: dt.date


class EmployerContacts(BaseModel):
    """The employer's cap on contacts from NAV this calendar month (issue 14)."""

    month: str = Field(description="calendar month, YYYY-MM (today's)", examples=["2026-11"])
    max_contacts_per_month: int | None = Field(description="the employer's cap; null: no cap")
    contacts_this_month: int = Field(ge=0, description='"contacted" events on its openings this month, up to today')
    remaining_contacts: int | None = Field(ge=0, description="contacts left this month; null: no cap")


class OpeningDetail(OpeningSummary):
    styrk08_source: Literal["given", "normalised"]
    required_skills: list[str]
    optional_skills: list[str]
    required_licences: list[str]
    min_norwegian: str
    min_education: str
    start_date: dt.date | None
    adaptations_offered: list[str] = Field(description="offered for this opening on top of the employer's")
    employer_adaptations: list[str]
    contact_name: str | None = Field(default=None, description="the employer's contact person (staff roles only)")
    contact_email: str | None = Field(default=None, description="the employer's contact e-mail (staff roles only)")
    employer_contacts: EmployerContacts | None = Field(
        default=None, description="the employer's contact cap and what is left of it this month (staff roles only)"
    )


class Candidate(BaseModel):
    rank: int = Field(ge=1)
    participant_id: ParticipantId
    score: float = Field(ge=0, le=1, description=SCORE_DOC)
    tied_with_previous: bool = Field(description=TIED_DOC.format(order=PARTICIPANT_TIE_ORDER))
    matched_elsewhere: bool | None = Field(
        default=None,
        description=(
            "strongly matched elsewhere: in the first 3 of another opening's candidate list in the same batch run "
            "(employer-facing lists only); null for a list computed live"
        ),
    )
    weak: bool = Field(description=WEAK)
    reasons: list[Reason]


class Candidates(BaseModel):
    opening_id: OpeningId
    run_id: str | None
    model_version: str
    candidates: list[Candidate]


# ----------------------------------------------------------------------------- feedback, audit, runs


class FeedbackIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"participant_id": "P-000001", "opening_id": "O-00001", "event": "contacted", "reason": "called the employer"}]
        },
    )

    participant_id: str = Field(pattern=ID_PATTERN, max_length=40, examples=["P-000001"])
    opening_id: str = Field(pattern=ID_PATTERN, max_length=40, examples=["O-00001"])
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
        try:  # compared in UTC, as it is stored (near year 1 or 9999 the conversion overflows)
            utc = v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v
        except (OverflowError, ValueError):
            raise ValueError("must be between 2000-01-01 and tomorrow") from None
        if not dt.datetime(2000, 1, 1) <= utc <= dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1):
            raise ValueError("must be between 2000-01-01 and tomorrow")
        return v


class FeedbackOut(BaseModel):
    event_id: str
    participant_id: ParticipantId
    opening_id: OpeningId
    event: Event
    reason: str | None
    occurred_at: UtcDateTime = Field(description="UTC")
    actor: str


class EventOut(FeedbackOut):
    """One recorded outcome on a timeline, with the opening it concerns."""

    title: str
    kind: Literal["job", "trial"]
    orgnr: Orgnr
    employer_name: str


class Office(BaseModel):
    office_id: OfficeId
    name: str
    municipality_code: str
    postal_code: PostalCode


class AuditEntry(BaseModel):
    id: int
    at: UtcDateTime
    sub: str
    role: str
    action: str
    participant_id: str | None = Field(description="the participant read — or, for a refused request, asked for")
    opening_id: str | None
    detail: str | None


class OfficeCongestion(BaseModel):
    openings_listed: int = Field(description="the office's openings in any personal top-10 list")
    share_openings_congested: float = Field(description="of those, the share whose top-10 exposure exceeds 5 × free places")
    gini_exposure: float = Field(description="Gini coefficient of the office's open openings' top-10 exposure")
    participants_listed: int
    share_participants_only_congested: float = Field(description="the office's participants whose top 10 holds only congested openings")


class CongestionFigures(OfficeCongestion):
    openings_congested: int
    max_exposure_top10: int
    mean_exposure_top3: float = Field(description="mean number of top-3 lists a listed opening is in")
    mean_exposure_top10: float
    free_places: int = Field(description="free places (positions minus active trials / hires) of the open openings")
    offices: dict[str, OfficeCongestion]


class InFlight(BaseModel):
    """Chains in flight at the run date (suggested / contacted / interview, no end yet, not idle
    past their stage's window) on the open openings, by the history's conversion to a start."""

    expected_starts: float = Field(description="their expected starts")
    openings: int = Field(description="open openings with a chain in flight")
    places_spoken_for: float = Field(description="free places they speak for: Σ min(free places, expected starts) per opening")


class HeldBack(BaseModel):
    """Openings with no room now, held back from every recommended-now list."""

    openings: int = Field(ge=0, description="openings in some personal top 10 held back")
    participants_without_room: int = Field(
        ge=0,
        description="participants with a personal list whose recommended-now list is empty: nothing with room nearby now (or, "
        "where employers cap contacts, the employers left have no contacts left)",
    )


class RunCongestion(BaseModel):
    """Issue 14: exposure of openings against free places, in the personal lists (`before`)
    and in the recommended-now lists (`after`)."""

    before: CongestionFigures
    after: CongestionFigures
    alloc_factor: float = Field(description="'flow': an opening is in at most this many × its free places recommended-now lists")
    recommend_now: int = Field(description="length of the recommended-now lists")
    alloc_mode: Literal["price", "flow"] = Field(
        default="flow",
        description="'price': full-length lists with congestion priced; 'flow': lists cut by capacity (runs before it: flow)",
    )
    alloc_start_factor: float | None = Field(
        default=None, description="'price': expected starts from the lists' heads are priced above this many × free places"
    )
    alloc_strength: float | None = Field(default=None, description="'price': weight of the congestion price on a pair's score")
    alloc_tail: Literal["personal", "priced"] | None = Field(
        default=None,
        description="'price': the list after its head in the personal order ('personal') or by priced value ('priced'; runs before it)",
    )
    alloc_full_strength: float | None = Field(
        default=None, description="'price': weight of the congestion price on openings with no free place at all"
    )
    alloc_passes: int | None = Field(
        default=None, description="'price': allocation passes; each after the first re-splits places between office shards"
    )
    in_flight: InFlight | None = Field(
        default=None,
        description="'price': chains in flight; the allocation splits free places less these expected starts (runs before it: none)",
    )
    alloc_hold_at: float | None = Field(
        default=None, description="'price': openings with at most this many places not spoken for are not recommended now"
    )
    alloc_hold_basis: Literal["not_spoken_for", "free"] | None = Field(
        default=None, description="'price': what alloc_hold_at compares: places not spoken for, or free places alone"
    )
    held_back: HeldBack | None = Field(default=None, description="'price': openings held back for want of room (none: null)")


class Run(BaseModel):
    run_id: str
    status: RunStatus = Field(
        description="running → publishing → published (later pruned); or failed, or abandoned (the process died; found by the next refresh)"
    )
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    as_of: dt.date
    model_version: str
    backend: str
    top_k: int
    n_participants: int | None
    n_openings: int | None
    n_pairs: int | None
    error: str | None
    congestion: RunCongestion | None = Field(default=None, description="congestion before and after allocation (runs since issue 14)")
    serving: bool = Field(description="the run the API serves")
    previous: bool = Field(description="the run before it (basis of new_since_last_run)")
    gate_candidate: str | None = Field(default=None, description="the candidate model the nightly promotion gate judged before this run")
    gate_decision: Literal["promoted", "refused"] | None = Field(default=None, description="its verdict; null: the run was not gated")
    gate_detail: dict[str, Any] | None = Field(
        default=None, description="the gate's figures: full-ranking comparison (paired bootstrap) and exposure gaps, and why"
    )


class Runs(Page[Run]):
    serving_run_id: str | None
    previous_run_id: str | None


# ----------------------------------------------------------------------------- fairness report


class FairnessFigures(BaseModel):
    """Figures of one group (or of everyone). A figure resting on fewer than `min_cell`
    participants is null and named in the group's `suppressed`."""

    participants: int | None = Field(description="participants in the group")
    eligible_participants: int | None = Field(description="of whom eligible for at least one open opening (hard constraints)")
    exposure: float | None = Field(description="appearances in liaison candidate top-10s / eligible (participant, open opening) pairs")
    appearances_per_participant: float | None = Field(description="mean appearances in liaison candidate top-10s")
    listed_participants: int | None = Field(description="participants with a list of their own")
    mean_score: float | None = Field(description="mean model score of each participant's own top 10")
    mean_distance_km: float | None = Field(description="mean distance (km, from home) of each participant's own top 10")
    participants_with_history: int | None = Field(description="participants with suggested pairs in the outcome history")
    interview_rate: float | None = Field(description="share of suggested pairs that reached an interview or better")
    start_rate: float | None = Field(description="share of suggested pairs that started (trial started or hired)")


class FairnessGroup(FairnessFigures):
    group: str
    suppressed: list[str] = Field(description="figures withheld: under the minimum cell size, or complementary to one that is")


class FairnessDimension(BaseModel):
    name: str = Field(description="age_band, adaptation_needs, adaptation_needs:<category>, norwegian_level, driving_licence, home, office")
    groups: list[FairnessGroup]
    exposure_gap: float | None = Field(description="1 − lowest / highest exposure among the shown groups")


class FairnessGap(BaseModel):
    dimension: str
    gap: float


class FairnessSource(BaseModel):
    kind: Literal["run", "model"] = Field(description="run: the served run's stored lists; model: a model's lists on today's data")
    run_id: str | None = None
    model_version: str


class FairnessReport(BaseModel):
    source: FairnessSource
    as_of: dt.date
    min_cell: int
    top_n: int
    overall: FairnessFigures
    dimensions: list[FairnessDimension]
    largest_exposure_gap: FairnessGap | None
