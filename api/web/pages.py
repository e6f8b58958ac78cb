"""The workbench's pages: thin calls to the API's own route functions and dependencies.

Each page does what the matching API request would do — the same scope check
(`api.deps.participant_in_scope`, `liaison_opening`), the same route function (which writes the
same audit row), the same response model (so a page shows exactly the fields the API would
return to that role, and nothing a template could leak besides) — and renders the result.
No role, office or redaction rule is decided here.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Literal

import jinja2
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from api import deps
from api.auth import ROLES, InvalidToken, Principal, create_token, decode_token
from api.deps import ConnDep, SettingsDep
from api.routes import admin as admin_api
from api.routes import feedback as feedback_api
from api.routes import match as match_api
from api.routes import openings as openings_api
from api.routes import participants as participants_api
from api.schemas import (
    Candidates,
    EventOut,
    FeedbackIn,
    Matches,
    OpeningDetail,
    OpeningIdPath,
    PairExplanation,
    ParticipantDetail,
    ParticipantIdPath,
    ParticipantProfile,
    Runs,
)
from api.web import messages
from api.web.session import (
    CSRF_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    AdminPage,
    AdviserPage,
    CsrfChecked,
    Lang,
    LangCode,
    LiaisonPage,
    csrf_token,
    set_cookie,
)
from matching import card as card_page
from matching import messages as engine_messages
from matching import runtime
from matching.criteria import BY_NAME
from matching.schema import Event
from matching.store import audit, directory, events, lists
from matching.taxonomy import adaptations, occupations

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
)

PAGE_SIZE = 50
MATCHES_SHOWN = 20
CANDIDATES_SHOWN = 20
#: "Not relevant" comes with a reason from this short list (stored as the event's reason).
DECLINE_REASONS = (
    "for lang reisevei",
    "passer ikke med arbeidstiden",
    "passer ikke med helsen",
    "ønsket ikke å gå videre",
    "har fått annen jobb",
    "arbeidsgiver valgte en annen kandidat",
)


# ----------------------------------------------------------------------------- rendering


def render(
    request: Request, name: str, lang: LangCode, principal: Principal | None = None, status_code: int = 200, **context: Any
) -> Response:
    csrf = csrf_token(request)

    def t(key: str, **values: Any) -> str:
        return messages.t(key, lang, **values)

    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": t,
            "lang": lang,
            "principal": principal,
            "csrf": csrf,
            "path": request.url.path,
            "other_lang": "en" if lang == "nb" else "nb",
            "need_label": lambda c: adaptations.label(c, lang),
            "occupation": lambda c: occupations.name(c) if lang == "nb" else occupations.name_en(c),
            "level_name": lambda kind, v: _level_name(kind, v, lang),
            "number": lambda x: engine_messages.num(float(x), lang),
            **context,
        },
        status_code=status_code,
    )
    if getattr(request.state, "new_csrf", None):
        set_cookie(request, response, CSRF_COOKIE, csrf)
    if request.query_params.get("lang") in messages.LANGS:
        set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


def _level_name(kind: str, value: str | None, lang: LangCode) -> str:
    """A Norwegian or education level as words ("morsmål", "videregående skole"), from the
    engine's catalogue; CEFR codes (A1…C1) stay as they are."""
    if not value:
        return "–"
    key = f"{kind}.name.{value}"
    return engine_messages.t(key, lang) if key in engine_messages.catalogue(lang) else value


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _field_errors(exc: ValidationError | HTTPException) -> dict[str, str]:
    """{field: message} from a pydantic error or an API 422/409 (inline next to the field)."""
    items = (
        exc.errors()
        if isinstance(exc, ValidationError)
        else (exc.detail if isinstance(exc.detail, list) else [{"loc": ["body", "event"], "msg": str(exc.detail)}])
    )
    out: dict[str, str] = {}
    for e in items:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query")]
        out.setdefault(loc[0] if loc else "form", str(e.get("msg", "")).removeprefix("Value error, "))
    return out


def _pages(total: int, offset: int) -> dict[str, Any]:
    return {
        "total": total,
        "first": offset + 1 if total else 0,
        "last": min(offset + PAGE_SIZE, total),
        "prev": max(offset - PAGE_SIZE, 0) if offset > 0 else None,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
    }


# ----------------------------------------------------------------------------- sign-in


@router.get("/")
def home(request: Request, settings: SettingsDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    try:
        principal = decode_token(token, settings) if token else None
    except InvalidToken:
        principal = None
    if principal is None:
        return _redirect("/signin")
    return _redirect({"adviser": "/caseload", "liaison": "/openings", "admin": "/admin/runs"}.get(principal.role, "/signin"))


def _signin_page(
    request: Request,
    settings,
    conn,
    lang: LangCode,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    dev = settings.environment == "development"
    return render(
        request,
        "signin.html",
        lang,
        status_code=status_code,
        dev=dev,
        roles=ROLES[:1] + ROLES[1:2] + ROLES[3:],
        offices=directory.offices(conn) if dev else [],
        errors=errors or {},
        values=values or {},
    )


@router.get("/signin")
def signin_form(request: Request, settings: SettingsDep, conn: ConnDep, lang: Lang) -> Response:
    return _signin_page(request, settings, conn, lang)


@router.post("/signin", dependencies=[CsrfChecked])
def signin(
    request: Request,
    settings: SettingsDep,
    conn: ConnDep,
    lang: Lang,
    token: str = Form(""),
    role: str = Form(""),
    office: str = Form(""),
    sub: str = Form(""),
) -> Response:
    """Development: a token for the chosen role, office and name. Elsewhere: the pasted token,
    verified exactly like a Bearer token."""
    values = {"role": role, "office": office, "sub": sub}
    if settings.environment == "development" and not token:
        errors = {}
        if role not in ROLES or role == "batch":
            errors["role"] = messages.t("signin.required", lang)
        if not sub.strip():
            errors["sub"] = messages.t("signin.required", lang)
        known = {o["office_id"] for o in directory.offices(conn)}
        if role in ("adviser", "liaison") and office not in known:
            errors["office"] = messages.t("signin.required", lang)
        if errors:
            return _signin_page(request, settings, conn, lang, errors, values, status_code=422)
        token = create_token(sub.strip()[:200], role, [office] if office in known else [], settings)
    try:
        principal = decode_token(token.strip(), settings)
    except InvalidToken as exc:
        return _signin_page(
            request, settings, conn, lang, {"token": messages.t("signin.invalid", lang, why=str(exc))}, values, status_code=422
        )
    response = _redirect("/")
    set_cookie(request, response, SESSION_COOKIE, token.strip(), max_age=settings.token_ttl_minutes * 60)
    audit.record_committed(conn.engine, principal, "sign_in")
    return response


@router.post("/signout", dependencies=[CsrfChecked])
def signout(request: Request) -> Response:
    response = _redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


# ----------------------------------------------------------------------------- adviser


@router.get("/caseload")
def caseload(request: Request, principal: AdviserPage, conn: ConnDep, lang: Lang, offset: int = Query(0, ge=0, le=2**31 - 1)) -> Response:
    """My participants first, then my offices' others: each with last night's list size, how
    much of it is new, and the last recorded event. Audited like GET /v1/participants."""
    offices = None if principal.is_admin else principal.offices
    rows, total = directory.caseload(conn, adviser=principal.sub, offices=offices, limit=PAGE_SIZE, offset=offset)
    ids = [r["participant_id"] for r in rows]
    served = lists.serving(conn)
    now = lists.openings_of(conn, served.run_id, ids) if served else {}
    before = lists.openings_of(conn, served.previous_run_id, ids) if served and served.previous_run_id else None
    last = events.last_events(conn, ids)
    items = []
    for r in rows:
        pid = r["participant_id"]
        listed = now.get(pid, [])
        new = len(set(listed) - set(before.get(pid, []))) if before is not None else 0
        items.append({**r, "mine": r["adviser_id"] == principal.sub, "n_matches": len(listed), "n_new": new, "last": last.get(pid)})
    if ids:
        audit.record_committed(conn.engine, principal, "list_participants", ids)
    return render(request, "caseload.html", lang, principal, items=items, pages=_pages(total, offset))


def _map(home: tuple[float, float], radius_km: float, points: list[dict[str, Any]]) -> dict[str, Any]:
    """An equirectangular projection around the home (accurate to a few per cent over a
    commute's distance): the home in the centre, the commute circle, the openings by rank."""
    lat0, lon0 = home
    kx, ky = 111.32 * math.cos(math.radians(lat0)), 110.57
    placed = [{**p, "dx": (p["lon"] - lon0) * kx, "dy": (p["lat"] - lat0) * ky} for p in points]
    extent = max([radius_km, *(max(abs(p["dx"]), abs(p["dy"])) for p in placed)]) * 1.1 or 1.0
    size = 400.0
    scale = size / 2 / extent
    for p in placed:
        p["x"], p["y"] = round(size / 2 + p["dx"] * scale, 1), round(size / 2 - p["dy"] * scale, 1)
    return {"size": size, "r": round(radius_km * scale, 1), "points": placed, "scale_km": round(extent, 1)}


def _participant_page(
    request: Request,
    principal: Principal,
    conn,
    settings,
    lang: LangCode,
    participant_id: str,
    kind: Literal["job", "trial", "any"] = "any",
    max_km: float | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
    view: Literal["personal", "recommended"] = "personal",
) -> Response:
    row = deps.participant_in_scope(conn, principal, participant_id)
    profile = ParticipantDetail.model_validate(participants_api.get_participant(row, principal, conn)).model_dump()
    no_recommended = False
    try:
        found = participants_api.matches_of(
            row, principal, conn, settings, kind=kind, limit=MATCHES_SHOWN, lang=lang, fresh=False, view=view
        )
    except HTTPException as exc:  # no recommended-now list in the served run (409): say so, offer the personal list
        if view != "recommended" or exc.status_code != status.HTTP_409_CONFLICT:
            raise
        no_recommended = True
        found = {"participant_id": participant_id, "run_id": None, "model_version": "", "view": view, "matches": []}
    matches = Matches.model_validate(found).model_dump()
    timeline = participants_api.participant_events(row, principal, conn, limit=PAGE_SIZE, offset=0)
    timeline_items = [EventOut.model_validate(e).model_dump() for e in timeline["items"]]
    places = directory.opening_places(conn, [m["opening_id"] for m in matches["matches"]])
    limit_km = profile["max_commute_km"]
    shown_km = limit_km if max_km is None else min(max(max_km, 1.0), limit_km)
    for m in matches["matches"]:
        m["hidden"] = m["distance_km"] is not None and m["distance_km"] > shown_km
        m["reasons"] = m["reasons"][:3]
    points = [
        {
            "rank": m["rank"],
            "title": m["title"],
            "lat": places[m["opening_id"]][0],
            "lon": places[m["opening_id"]][1],
            "hidden": m["hidden"],
        }
        for m in matches["matches"]
        if m["opening_id"] in places
    ]
    return render(
        request,
        "participant.html",
        lang,
        principal,
        status_code=status_code,
        p=profile,
        matches=matches,
        kind=kind,
        shown_km=shown_km,
        limit_km=limit_km,
        history=timeline_items,
        timeline_total=timeline["total"],
        map=_map((row["lat"], row["lon"]), limit_km, points),
        events=list(Event),
        reasons=DECLINE_REASONS,
        errors=errors or {},
        recorded=request.query_params.get("recorded") == "1",
        view=view,
        no_recommended=no_recommended,
    )


@router.get("/participants/{participant_id}")
def participant_page(
    request: Request,
    participant_id: ParticipantIdPath,
    principal: AdviserPage,
    conn: ConnDep,
    settings: SettingsDep,
    lang: Lang,
    kind: deps.KindFilter = "any",
    max_km: float | None = Query(None, ge=0, le=300),
    view: deps.View = "personal",
) -> Response:
    return _participant_page(request, principal, conn, settings, lang, participant_id, kind, max_km, view=view)


@router.get("/participants/{participant_id}/matches/{opening_id}")
def explanation_page(
    request: Request,
    participant_id: ParticipantIdPath,
    opening_id: OpeningIdPath,
    principal: AdviserPage,
    conn: ConnDep,
    settings: SettingsDep,
    lang: Lang,
    partial: bool = False,
) -> Response:
    """Every criterion of the pair as a horizontal bar chart (the API's explanation)."""
    row = deps.participant_in_scope(conn, principal, participant_id)
    pair = PairExplanation.model_validate(
        participants_api.explain_pair(row, principal, conn, settings, opening_id=opening_id, lang=lang)
    ).model_dump()
    opening = deps.opening_or_404(conn, opening_id)
    biggest = max([abs(f["contribution"]) for f in pair["features"]] + [1e-9])
    for f in pair["features"]:
        f["share"] = round(abs(f["contribution"]) / biggest * 50, 1)  # % of the chart's width, each side
    return render(request, "explain_partial.html" if partial else "explain.html", lang, principal, pair=pair, opening=opening)


@router.post("/participants/{participant_id}/events", dependencies=[CsrfChecked])
def record_event(
    request: Request,
    participant_id: ParticipantIdPath,
    principal: AdviserPage,
    conn: ConnDep,
    settings: SettingsDep,
    lang: Lang,
    opening_id: str = Form(""),
    event: str = Form(""),
    reason: str = Form(""),
) -> Response:
    """POST /v1/feedback from the match row; a bad field is shown next to it, nothing stored."""
    deps.participant_ref_in_scope(conn, principal, participant_id)
    try:
        body = FeedbackIn.model_validate(
            {"participant_id": participant_id, "opening_id": opening_id, "event": event, "reason": reason or None}
        )
        feedback_api.record_feedback(body, principal, conn, settings, request)
    except ValidationError as exc:
        errors = {opening_id: _field_errors(exc)}
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        errors = {opening_id: _field_errors(exc)}
    else:
        return _redirect(f"/participants/{participant_id}?recorded=1#timeline")
    return _participant_page(request, principal, conn, settings, lang, participant_id, errors=errors, status_code=422)


def _whatif_page(
    request: Request,
    principal: Principal,
    conn,
    settings,
    lang: LangCode,
    participant_id: str,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    row = deps.participant_in_scope(conn, principal, participant_id)
    profile = ParticipantDetail.model_validate(participants_api.get_participant(row, principal, conn)).model_dump()
    current = Matches.model_validate(
        participants_api.matches_of(row, principal, conn, settings, kind="any", limit=10, lang=lang, fresh=False)
    ).model_dump()
    form = form or {
        "desired_titles": "\n".join(profile["desired_titles"]),
        "desired_styrk08": ", ".join(profile["desired_styrk08"]),
        "max_commute_km": f"{profile['max_commute_km']:g}",
        "max_hours_per_week": f"{profile['max_hours_per_week']:g}",
        "goal": profile["goal"],
    }
    return render(
        request,
        "whatif.html",
        lang,
        principal,
        status_code=status_code,
        p=profile,
        form=form,
        errors=errors or {},
        current=current,
        result=result,
    )


@router.get("/participants/{participant_id}/what-if")
def whatif_form(
    request: Request, participant_id: ParticipantIdPath, principal: AdviserPage, conn: ConnDep, settings: SettingsDep, lang: Lang
) -> Response:
    return _whatif_page(request, principal, conn, settings, lang, participant_id)


@router.post("/participants/{participant_id}/what-if", dependencies=[CsrfChecked])
def whatif(
    request: Request,
    participant_id: ParticipantIdPath,
    principal: AdviserPage,
    conn: ConnDep,
    settings: SettingsDep,
    lang: Lang,
    desired_titles: str = Form(""),
    desired_styrk08: str = Form(""),
    max_commute_km: str = Form(""),
    max_hours_per_week: str = Form(""),
    goal: str = Form(""),
) -> Response:
    """The profile as GET /v1/participants/{id} returns it, with the form's changes, posted to
    POST /v1/match's own function: re-ranked, nothing stored."""
    row = deps.participant_in_scope(conn, principal, participant_id)
    detail = ParticipantDetail.model_validate(row).model_dump(mode="json")
    form = {
        "desired_titles": desired_titles,
        "desired_styrk08": desired_styrk08,
        "max_commute_km": max_commute_km,
        "max_hours_per_week": max_hours_per_week,
        "goal": goal,
    }
    titles = [x.strip() for x in desired_titles.splitlines() if x.strip()]
    codes = [x.strip() for x in desired_styrk08.replace(";", ",").split(",") if x.strip()]
    if titles != detail["desired_titles"] and codes == detail["desired_styrk08"]:
        codes = []  # new wishes in words: derive their codes rather than keep the old ones
    body = detail | {
        "desired_titles": titles,
        "desired_styrk08": codes,
        "max_commute_km": max_commute_km or None,
        "max_hours_per_week": max_hours_per_week or None,
        "goal": goal,
    }
    try:
        result = Matches.model_validate(
            match_api.profile_matches(ParticipantProfile.model_validate(body), principal, conn, settings, kind="any", limit=10, lang=lang)
        ).model_dump()
    except ValidationError as exc:
        return _whatif_page(request, principal, conn, settings, lang, participant_id, form, _field_errors(exc), status_code=422)
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return _whatif_page(request, principal, conn, settings, lang, participant_id, form, _field_errors(exc), status_code=422)
    return _whatif_page(request, principal, conn, settings, lang, participant_id, form, result=result)


# ----------------------------------------------------------------------------- liaison


@router.get("/openings")
def openings_page(
    request: Request,
    principal: LiaisonPage,
    conn: ConnDep,
    lang: Lang,
    employer: str = Query("", max_length=100),
    kind: str = Query(""),
    deadline: str = Query(""),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> Response:
    """Open positions and trial places of my offices, by deadline; filter by employer, kind, deadline."""
    errors: dict[str, str] = {}
    before = None
    if deadline:
        try:
            before = TypeAdapter(dt.date).validate_python(deadline)
        except ValidationError as exc:
            errors["deadline"] = _field_errors(exc).get("form", "")
    if kind not in ("", "job", "trial"):
        errors["kind"] = messages.t("field.invalid", lang, why="job | trial")
    rows, total = (
        ([], 0)
        if errors
        else directory.openings(
            conn,
            offices=None if principal.is_admin else principal.offices,
            kind=kind or None,
            deadline_before=before,
            employer_q=employer.strip() or None,
            limit=PAGE_SIZE,
            offset=offset,
        )
    )
    return render(
        request,
        "openings.html",
        lang,
        principal,
        status_code=422 if errors else 200,
        items=rows,
        pages=_pages(total, offset),
        errors=errors,
        form={"employer": employer, "kind": kind, "deadline": deadline},
    )


def _offer_categories(codes: list[str], lang: LangCode) -> list[tuple[str, int]]:
    """Offered adaptations as categories with counts: an employer's offer is public, but the
    page of an opening's candidates names no single adaptation (the same codes name needs)."""
    counts: dict[str, int] = {}
    known = adaptations.needs()
    for code in dict.fromkeys(codes):
        if code in known:
            need = known[code]
            title = need.category_title_en if lang == "en" else need.category_title_nb
            counts[title] = counts.get(title, 0) + 1
    return sorted(counts.items())


@router.get("/openings/{opening_id}")
def opening_page(
    request: Request, opening_id: OpeningIdPath, principal: LiaisonPage, conn: ConnDep, settings: SettingsDep, lang: Lang
) -> Response:
    """The opening, its ranked candidates (GET /v1/openings/{id}/candidates: employer-facing,
    pseudonymous) and its contact history (GET /v1/openings/{id}/events)."""
    row = deps.liaison_opening(opening_id, principal, conn)
    opening = OpeningDetail.model_validate(openings_api.get_opening(opening_id, principal, conn, settings)).model_dump()
    candidates = Candidates.model_validate(
        openings_api.candidates_of(row, principal, conn, settings, limit=CANDIDATES_SHOWN, lang=lang, fresh=False)
    ).model_dump()
    history = openings_api.opening_events(opening_id, principal, conn, limit=PAGE_SIZE, offset=0)
    return render(
        request,
        "opening.html",
        lang,
        principal,
        o=opening,
        candidates=candidates,
        history=[EventOut.model_validate(e).model_dump() for e in history["items"]],
        offers=_offer_categories(opening["adaptations_offered"] + opening["employer_adaptations"], lang),
    )


@router.get("/employers/{orgnr}")
def employer_page(request: Request, orgnr: str, principal: LiaisonPage, conn: ConnDep, lang: Lang) -> Response:
    """An employer of my offices: its open positions and places, inclusion record, and the
    contact history colleagues recorded (audited per participant named in it)."""
    employer = directory.employer(conn, orgnr) if orgnr.isdigit() and len(orgnr) == 9 else None
    if employer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"employer {orgnr!r} not found")
    deps.ensure_office(principal, employer["office_id"], "employer")
    rows, _ = directory.openings(conn, offices=None, orgnr=orgnr, limit=PAGE_SIZE)
    history, _ = events.for_employer(conn, orgnr, limit=PAGE_SIZE)
    if history:
        audit.record_committed(
            conn.engine, principal, "read_employer_events", [e["participant_id"] for e in history], detail=f"orgnr={orgnr}"
        )
    return render(
        request,
        "employer.html",
        lang,
        principal,
        e=employer,
        openings=rows,
        history=[EventOut.model_validate(e).model_dump() for e in history],
        offers=_offer_categories(employer["adaptations_offered"], lang),
    )


# ----------------------------------------------------------------------------- admin


@router.get("/admin/runs")
def runs_page(request: Request, principal: AdminPage, conn: ConnDep, lang: Lang) -> Response:
    runs = Runs.model_validate(admin_api.list_runs(principal, conn, limit=50, offset=0)).model_dump()
    return render(request, "runs.html", lang, principal, runs=runs)


@router.get("/admin/model")
def model_page(request: Request, principal: AdminPage, settings: SettingsDep, lang: Lang) -> Response:
    try:
        model = runtime.model(settings)
    except FileNotFoundError:
        return render(request, "model.html", lang, principal, card=None)
    card = model.card
    weights: list[dict[str, Any]] = [
        {"criterion": _criterion_name(c, lang), "levels": [{"label": _level_label(card, c, k, lang), "w": w} for k, w in enumerate(ws)]}
        for c, ws in model.to_dict()["level_weights"].items()
    ]
    biggest = max([abs(lv["w"]) for c in weights for lv in c["levels"]] + [1e-9])
    for c in weights:
        for lv in c["levels"]:
            lv["share"] = round(abs(lv["w"]) / biggest * 50, 1)
    holdout = card.get("evaluation", {}).get("holdout", {})
    metrics = {card_page.scorer_label(k, lang): v for k, v in holdout.items() if isinstance(v, dict)}
    full = card.get("evaluation", {}).get("full_ranking") or {}
    ranking = {card_page.scorer_label(k, lang): v for k, v in full.items() if isinstance(v, dict) and "recall@10" in v}
    pictures = {
        k: f"/admin/model/card/{name}" for k, name in card_page.pictures(model.version).items() if (settings.model_dir / name).exists()
    }
    page = (settings.model_dir / f"matcher-{model.version}.md").exists()
    return render(
        request,
        "model.html",
        lang,
        principal,
        card=card,
        description=_card_text(card.get("model"), "card.model", lang),
        intended_use=_card_text(card.get("intended_use"), "card.intended_use", lang),
        version=model.version,
        weights=weights,
        metrics=metrics,
        ranking=ranking,
        full=full,
        pictures=pictures,
        card_page=page,
    )


def _criterion_name(name: str, lang: LangCode) -> str:
    """A criterion's name as the engine's catalogue words it ("Avstand"), else its id."""
    key = f"criterion.{name}"
    return engine_messages.t(key, lang) if key in engine_messages.catalogue(lang) else name


def _level_label(card: dict[str, Any], criterion: str, level: int, lang: LangCode) -> str:
    """A level's label in the asked language (the engine's catalogue); a criterion this code
    no longer declares: the card's own (English) label."""
    crit = BY_NAME.get(criterion)
    if crit is not None and level < crit.n_levels:
        return crit.level_label(level, lang)
    labels: list[Any] = next((f.get("levels", []) for f in card.get("features", []) if f.get("name") == criterion), [])
    return str(labels[level]) if level < len(labels) else str(level)


def _card_text(text: Any, key: str, lang: LangCode) -> str:
    """The card's English description in the asked language when it is the text the catalogue
    knows (what `matching train` writes); any other text (an older card's) as the card has it."""
    if text == engine_messages.t(key, "en"):
        return engine_messages.t(key, lang)
    return "" if text is None else str(text)


@router.get("/admin/model/card/{name}")
def model_card_file(name: str, principal: AdminPage, settings: SettingsDep) -> Response:
    """The served model's readable card (Markdown) and its pictures (`matching.card`), admins only."""
    try:
        version = runtime.model(settings).version
    except FileNotFoundError:
        raise HTTPException(status_code=404, detail="no trained model") from None
    files = {**dict.fromkeys(card_page.pictures(version).values(), "image/png"), f"matcher-{version}.md": "text/markdown; charset=utf-8"}
    path = settings.model_dir / name
    if name not in files or not path.exists():
        raise HTTPException(status_code=404, detail="no such card file for the served model")
    return Response(path.read_bytes(), media_type=files[name])


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: AdminPage,
    conn: ConnDep,
    lang: Lang,
    participant_id: str = Query("", max_length=40),
    sub: str = Query("", max_length=200),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> Response:
    page = admin_api.read_audit(
        principal, conn, limit=PAGE_SIZE, offset=offset, participant_id=participant_id.strip() or None, sub=sub.strip() or None
    )
    return render(
        request,
        "audit.html",
        lang,
        principal,
        items=page["items"],
        pages=_pages(page["total"], offset),
        form={"participant_id": participant_id, "sub": sub},
    )
