"""Input normalisation, in one place: validated input (``matching.schema``) → the rows the
engine stores and reads.

What is derived here, and nowhere else:

- job titles → STYRK-08 codes (:mod:`matching.taxonomy.titles`) when no code was given —
  an opening's title, a participant's desired titles;
- free-text skills → ESCO ids where recognised, cleaned text otherwise
  (:func:`matching.taxonomy.skills.normalise_skill_list`);
- postal codes → coordinates (:mod:`matching.taxonomy.places`); an opening without its own
  postal code takes its employer's place;
- dates stay ``datetime.date`` (the database hands them back as dates, so a stored and a
  posted profile are the same row); an outcome without an id gets a deterministic one.

The bulk loader (``matching.store.load``) and ``POST /v1/match`` both call these functions, so
a profile posted to the API is normalised exactly like the same profile loaded from a file.
The snapshot (``matching.store.snapshot`` → ``matching.world``) reads the stored, normalised
rows as they are; what it still computes from them is comparison, not normalisation (e.g. a
participant's unrecognised free-text skill fuzzily meeting an opening's, which depends on the
openings of the snapshot).

Domain core: no SQLAlchemy, no web stack (tests/test_layers.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

from matching import schema
from matching.taxonomy import places, skills

#: Bound of the title memo (distinct titles); a national load has ~10k distinct ones.
_TITLE_MEMO_MAX = 200_000
_TITLE_CODES: dict[str, str | None] = {}
_TITLE_LOCK = threading.Lock()


class UnrecognisedTitles(ValueError):
    """No STYRK-08 code could be found for a row that gave none; ``field`` names what to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def title_codes(titles: Iterable[str]) -> list[str | None]:
    """Titles → STYRK-08 codes (None: not recognised), batched and memoised: the same titles
    recur across rows and requests, and the normaliser is the slow step of a load."""
    from matching.taxonomy.titles import normalise_titles  # the title model loads on first use

    titles = list(titles)
    with _TITLE_LOCK:
        known = {t: _TITLE_CODES[t] for t in titles if t in _TITLE_CODES}
    missing = list(dict.fromkeys(t for t in titles if t not in known))
    if missing:
        found = {title: (m.code if m is not None else None) for title, m in zip(missing, normalise_titles(missing))}
        known.update(found)
        with _TITLE_LOCK:
            if len(_TITLE_CODES) > _TITLE_MEMO_MAX:  # this call's answers are kept in `known`
                _TITLE_CODES.clear()
            _TITLE_CODES.update(found)
    return [known[t] for t in titles]


def _place(postal_code: str) -> places.Place:
    place = places.lookup(postal_code)
    assert place is not None  # the contract accepts only postal codes with coordinates
    return place


def office(o: schema.Office) -> dict[str, Any]:
    return o.model_dump()


def employer(e: schema.Employer) -> dict[str, Any]:
    place = _place(e.postal_code)
    return {**e.model_dump(), "lat": place.lat, "lon": place.lon}


#: Where an employer is: (postal code, lat, lon), as stored.
EmployerPlace = tuple[str, float, float]


def employer_place(row: dict[str, Any]) -> EmployerPlace:
    return row["postal_code"], row["lat"], row["lon"]


def opening(o: schema.Opening, at_employer: EmployerPlace | None, code: str | None = None) -> dict[str, Any]:
    """An opening as stored: its STYRK-08 code (given, or normalised from the title; pass
    ``code`` when a batch call of :func:`title_codes` already found it), skills as ids, and
    coordinates (its own postal code's, else the employer's; ``at_employer`` None leaves them
    unset, for an employer that is unknown and already reported).

    Raises UnrecognisedTitles (field ``title``) if a code was needed and none was found."""
    styrk08, source = o.styrk08, "given"
    if not styrk08:
        styrk08, source = code if code is not None else title_codes([o.title])[0], "normalised"
        if styrk08 is None:
            raise UnrecognisedTitles("could not recognise the job title; give styrk08 explicitly", "title")
    row = {
        **o.model_dump(),
        "styrk08": styrk08,
        "styrk08_source": source,
        "required_skills": skills.normalise_skill_list(o.required_skills),
        "optional_skills": skills.normalise_skill_list(o.optional_skills),
    }
    if o.postal_code:
        place = _place(o.postal_code)
        row.update(lat=place.lat, lon=place.lon)
    elif at_employer is not None:
        postal, lat, lon = at_employer
        row.update(postal_code=postal, lat=lat, lon=lon)
    return row


def participant(profile: schema.ParticipantProfile) -> dict[str, Any]:
    """A validated profile (a stored participant, or one posted to the API) → the stored row.

    Dates stay dates, desired titles become STYRK-08 codes when no code was given (the
    recognised ones, in order, without repeats), free-text skills ESCO ids where recognised,
    and the postal code gives the coordinates. Raises UnrecognisedTitles (field
    ``desired_titles``) if codes were needed and no title was recognised."""
    row = profile.model_dump(mode="json")
    for name in ("registered_at", "available_from"):
        if name in row:
            row[name] = getattr(profile, name)
    if not profile.desired_styrk08:
        found = [c for c in title_codes(profile.desired_titles) if c]
        if not found:
            raise UnrecognisedTitles("could not recognise any desired title; give desired_styrk08", "desired_titles")
        row["desired_styrk08"] = list(dict.fromkeys(found))
    row["skills"] = skills.normalise_skill_list(profile.skills)
    place = _place(profile.postal_code)
    row.update(lat=place.lat, lon=place.lon)
    return row


def outcome_event_id(o: schema.Outcome) -> str:
    """Deterministic id so re-importing the same history does not duplicate events."""
    key = f"{o.participant_id}|{o.opening_id}|{o.event}|{o.occurred_at.isoformat()}"
    return "E-" + hashlib.sha1(key.encode()).hexdigest()[:16]


def outcome(o: schema.Outcome) -> dict[str, Any]:
    return {**o.model_dump(), "event_id": o.event_id or outcome_event_id(o)}
