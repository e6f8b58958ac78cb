"""The behavioural outcome model: who gets suggested what, and how each suggestion ends.

Deliberately *not* the engine's scoring formula (see the package docstring for the model
and its parameters). Everything is vectorised over suggested pairs; the one Python loop runs
over the few capacity events (hires and trial starts) in time order, because whether a
position is still free depends on what happened before.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from matching import schema
from matching.taxonomy.places import haversine_km
from worldgen import similarity
from worldgen.catalogue import OCC_BY_CODE
from worldgen.world import NEED_CATEGORY, NEED_CODES, _gumbel_top

# Event codes per chain slot (0 = no event).
NONE, SUGGESTED, CONTACTED, INTERVIEW, TRIAL, HIRED, DECL_P, DECL_E = range(8)
EVENT_NAMES = np.array(
    ["", "suggested", "contacted", "interview", "trial_started", "hired", "declined_by_participant", "declined_by_employer"], dtype=object
)
ADVISERS_PER_OFFICE = 4


def advisers(parts: pd.DataFrame) -> np.ndarray:
    """The adviser following each participant (their `adviser_id`, and the actor of the events
    they record): one of ADVISERS_PER_OFFICE per office, in turn. Draws nothing at random."""
    return np.array(
        [f"veileder-{office.removeprefix('nav-')}-{1 + i % ADVISERS_PER_OFFICE}" for i, office in enumerate(parts["office_id"])],
        dtype=object,
    )


ROUND_CHUNK = 50_000
CANDIDATES = {"office_job": 12, "office_trial": 6, "any_job": 6, "any_trial": 3, "wished_all": 9}

#: Penalty (logit) of a need the workplace does not cover; see the package docstring.
NEED_PENALTY = {
    "UNIVERSELL_UTFORMING": 3.0,
    "TUNGE_LØFT": 0.3,
    "ERGONOMI": 0.6,
    "ARBEIDSSTILLING": 0.6,
    "IKKE_HELE_DAGER": 0.3,
    "GRADVIS_ØKNING": 0.5,
    "BORTE_FASTE_DAGER_ELLER_TIDER": 0.6,
    "FLEKSIBEL": 0.6,
    "OPPLÆRING": 0.3,
    "OPPGAVER": 0.3,
    "TETT_OPPFØLGING": 0.6,
    "STILLE_OG_ROLIG_MILJØ": 0.5,
    "PERSONLIG_BISTAND": 1.2,
    "SNAKKE": 0.4,
    "LESE": 0.3,
    "SKRIVE": 0.3,
}
SEASON = {1: 0.2, 7: -0.8, 8: 0.2, 12: -0.5}
_SEASON = np.array([SEASON.get(m, 0.0) for m in range(13)])
#: Intercepts of the funnel's steps (logits).
A_CONTACT, A_ADVANCE, A_HIRE_JOB, A_HIRE_TRIAL = 3.6, 0.5, -0.2, -0.3
LICENCES = ("B", "C", "CE", "D")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _licence_bits(values) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.int64)
    for bit, lic in enumerate(LICENCES):
        out |= np.array([lic in v.split("|") for v in values], dtype=np.int64) << bit
    return out


def _bits(masks: np.ndarray) -> np.ndarray:
    """Boolean (rows × 16) need matrix → one int per row."""
    return (masks.astype(np.int64) << np.arange(masks.shape[1])).sum(axis=1) if masks.size else np.zeros(len(masks), int)


def _skill_matrix(lists, vocab: dict[str, int]) -> sp.csr_matrix:
    rows, cols = [], []
    for i, value in enumerate(lists):
        for s in value.split("|"):
            if s:
                rows.append(i)
                cols.append(vocab.setdefault(s, len(vocab)))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(lists), 1 << 16))


def _candidates(
    rng, parts: pd.DataFrame, opens: pd.DataFrame, p_of_round: np.ndarray, t: np.ndarray, span: int, wished: np.ndarray
) -> np.ndarray:
    """(rounds × slots) indices of openings open on day t (−1 = empty slot).

    Slots per round (CANDIDATES): jobs and trial placements of the participant's office,
    anywhere, and of the occupation the adviser searches for this round (`wished`).
    """
    pub, close = opens["_pub"].to_numpy(), opens["_close"].to_numpy()
    kind = opens["kind"].to_numpy()
    keys = {
        "office": (opens["office_id"].to_numpy(), parts["office_id"].to_numpy()[p_of_round]),
        "any": (np.zeros(len(opens), int), np.zeros(len(t), int)),
        "wished": (opens["_code"].astype(int).to_numpy(), wished),
    }
    blocks = []
    for group, m in CANDIDATES.items():
        scope, want_kind = group.rsplit("_", 1)
        o_key, r_key = keys[scope]
        block = np.full((len(t), m), -1)
        for value in np.unique(r_key):
            members = np.flatnonzero(((kind == want_kind) | (want_kind == "all")) & (o_key == value))
            rows = np.flatnonzero(r_key == value)
            if len(members) == 0:
                continue
            members = members[np.argsort(pub[members], kind="stable")]
            reach = int((np.minimum(close[members], span) - pub[members]).max()) + 1
            lo = np.searchsorted(pub[members], t[rows] - reach)
            hi = np.searchsorted(pub[members], t[rows], side="right")
            pos = lo[:, None] + np.floor(rng.random((len(rows), m)) * (hi - lo)[:, None]).astype(int)
            cand = members[np.minimum(pos, len(members) - 1)]
            ok = (hi > lo)[:, None] & (close[cand] > t[rows][:, None])
            block[rows] = np.where(ok, cand, -1)
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


def _code_match(o_code: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Closest occupational similarity of any wanted code to the opening's: 4 same unit group,
    3 close, 2 near, 1 related, 0 none (the generator's own :mod:`worldgen.similarity`: STYRK
    hierarchy plus a hand-set affinity, never the engine's proximity table). ``wanted`` is -1
    padded and broadcasts against ``o_code`` with one extra trailing axis."""
    return similarity.best_level(o_code, wanted)


def simulate(
    rng,
    parts: pd.DataFrame,
    opens: pd.DataFrame,
    emps: pd.DataFrame,
    region: pd.DataFrame,
    span: int,
    start: dt.date,
    per_participant: float,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The outcome events, and each opening's number of accepted hires / trial starts."""
    n_p, n_o = len(parts), len(opens)
    if n_p == 0 or n_o == 0:
        return pd.DataFrame(columns=list(schema.Outcome.model_fields)), np.zeros(n_o, dtype=int)
    coords = region.set_index("postnummer")[["lat", "lon", "kommunenummer_2025"]]
    p_lat, p_lon = (coords.loc[parts["postal_code"], c].to_numpy(float) for c in ("lat", "lon"))
    o_lat, o_lon = (coords.loc[opens["_postal"], c].to_numpy(float) for c in ("lat", "lon"))
    wishes = np.stack(parts["_wishes"].to_numpy()) if n_p else np.zeros((0, 3), int)
    goal = parts["goal"].to_numpy()
    o_kind = opens["kind"].to_numpy()
    o_code = opens["_code"].astype(int).to_numpy()
    p_lic, o_lic = _licence_bits(parts["driving_licences"]), _licence_bits(opens["required_licences"])
    p_bits = _bits(np.stack(parts["_needs"].to_numpy())) if n_p else np.zeros(0, int)
    o_bits = _bits(np.stack(opens["_offers"].to_numpy())) if n_o else np.zeros(0, int)
    n_needs = np.bitwise_count(p_bits)
    reg = parts["_reg"].to_numpy()

    # ---- 1. suggestion rounds: ~Poisson, more for those registered longer
    active = (span - reg) / max(span, 1)
    rounds = rng.poisson(per_participant * 2.0 * active)
    p_of_round = np.repeat(np.arange(n_p), rounds)
    t = (reg[p_of_round] + rng.random(len(p_of_round)) * (span - reg[p_of_round])).astype(int)

    # ---- 2. the adviser's noisy heuristic picks 1-3 of ~45 openings open that day
    # (in chunks of rounds, so memory stays flat at any scale)
    n_wish = (wishes >= 0).sum(axis=1)
    searched = wishes[p_of_round, (rng.random(len(t)) * n_wish[p_of_round]).astype(int)]
    n_picks = rng.choice([1, 2, 3], size=len(t), p=[0.4, 0.35, 0.25])
    chunks = []
    for lo in range(0, len(t), ROUND_CHUNK):
        rows = slice(lo, lo + ROUND_CHUNK)
        pr_, t_ = p_of_round[rows], t[rows]
        cand = _candidates(rng, parts, opens, pr_, t_, span, searched[rows])
        c = np.maximum(cand, 0)
        pr = pr_[:, None]
        km = haversine_km(p_lat[pr], p_lon[pr], o_lat[c], o_lon[c])
        occ_factor = np.array([1.0, 1.0, 1.5, 3.0, 6.0])[_code_match(o_code[c], wishes[pr_][:, None, :])]
        g = goal[pr]
        kind_factor = np.where((g == "job") & (o_kind[c] == "trial"), 0.25, np.where((g == "trial") & (o_kind[c] == "job"), 0.5, 1.0))
        lic_factor = np.where((o_lic[c] & ~p_lic[pr]) != 0, 0.1, 1.0)
        covered = np.bitwise_count(p_bits[pr] & o_bits[c])
        need_factor = 1.0 + np.where(n_needs[pr] > 0, covered / np.maximum(n_needs[pr], 1), 0.0)
        w = np.exp(-km / 20.0) * occ_factor * kind_factor * lic_factor * need_factor * rng.lognormal(0.0, 0.6, cand.shape) * (cand >= 0)
        r_idx, s_idx = np.nonzero(_gumbel_top(rng, w, n_picks[rows]))
        chunks.append((pr_[r_idx], cand[r_idx, s_idx], t_[r_idx]))
    pair_p, pair_o, s_day = (np.concatenate([ch[k] for ch in chunks]) if chunks else np.zeros(0, int) for k in range(3))
    # one pair is suggested once (its first time)
    order = np.lexsort((s_day, pair_o, pair_p))
    pair_p, pair_o, s_day = pair_p[order], pair_o[order], s_day[order]
    first = np.ones(len(pair_p), bool)
    first[1:] = (pair_p[1:] != pair_p[:-1]) | (pair_o[1:] != pair_o[:-1])
    pair_p, pair_o, s_day = pair_p[first], pair_o[first], s_day[first]
    events, accepted, _ = resolve(rng, parts, opens, emps, region, span, start, pair_p, pair_o, s_day)
    return events, accepted


_MASK64 = (1 << 64) - 1


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


class Draws:
    """Where `resolve`'s random numbers come from.

    Sequential (`Draws(rng)`): a numpy Generator drawn in call order, as `matching generate`
    always has (the fixtures stay byte for byte). Keyed (`Draws.keyed(seed)`): a
    counter-based hash (SplitMix64 over seed, stream, participant row, opening row, slot), so
    each participant's numbers depend only on (seed, stream, participant) and each pair's only
    on (seed, stream, participant, opening): resolving the same pairs in another order, with
    other pairs beside them, or up to another day gives every pair the same numbers. A replay
    that refreshes the lists within its period (benchmarks/allocation.py) needs that, so both
    arms share each pair's randomness (common random numbers). Rows are the world's
    participant and opening rows."""

    def __init__(self, rng: np.random.Generator | None = None, key: int | None = None) -> None:
        if (rng is None) == (key is None):
            raise ValueError("Draws takes exactly one of a generator and a key")
        self.rng, self.key = rng, key

    @classmethod
    def keyed(cls, seed: int) -> Draws:
        return cls(key=seed)

    def _uniform(self, stream: str, *keys: np.ndarray) -> np.ndarray:
        """Uniform in (0, 1), one per element of the (broadcast) keys."""
        assert self.key is not None
        start = (self.key * 0x9E3779B97F4A7C15 + zlib.crc32(stream.encode())) & _MASK64
        h = _mix(np.full(np.broadcast(*keys).shape, start, dtype=np.uint64))
        for k in keys:
            h = _mix(h ^ (np.asarray(k).astype(np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)))
        return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53

    def _draw(self, stream: str, kind: str, args: tuple, size: int, keys: tuple, child: bool) -> np.ndarray:
        if self.rng is not None:
            gen = self.rng.spawn(1)[0] if child else self.rng
            return getattr(gen, kind)(*args, size=size)
        u = self._uniform(stream, *keys)
        if kind == "random":
            return u
        if kind == "integers":
            return args[0] + np.floor(u * (args[1] - args[0])).astype(np.int64)
        z = args[0] + args[1] * special.ndtri(u)
        return np.exp(z) if kind == "lognormal" else z

    def per_participant(self, stream: str, kind: str, *args, n: int) -> np.ndarray:
        """One number per participant row (0 … n−1)."""
        return self._draw(stream, kind, args, n, (np.arange(n),), False)

    def per_pair(self, stream: str, kind: str, *args, p: np.ndarray, o: np.ndarray, child: bool = False) -> np.ndarray:
        """One number per pair (participant row, opening row); `child`: sequentially, from a
        spawned child stream (so the parent's later draws stay as they were)."""
        return self._draw(stream, kind, args, len(p), (p, o), child)

    def per_slot(self, stream: str, kind: str, *args, p: np.ndarray, o: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """One number per (pair, chain slot)."""
        return self._draw(stream, kind, args, len(p), (p, o, slot), False)


def resolve(
    rng: np.random.Generator | Draws,
    parts: pd.DataFrame,
    opens: pd.DataFrame,
    emps: pd.DataFrame,
    region: pd.DataFrame,
    span: int,
    start: dt.date,
    pair_p: np.ndarray,
    pair_o: np.ndarray,
    s_day: np.ndarray,
    taken_before: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """How suggested pairs (participant row, opening row, day, each pair once) end: steps 3-6
    of the behavioural model, capacity resolved in time order. Also used to replay a period in
    which advisers follow given lists (benchmarks/allocation.py): `taken_before` are places
    already taken when it starts. Returns the events, each opening's accepted hires / trial
    starts, and per pair its `start_day` (hire of a job / start of a trial, −1: none) and
    `full` (ended because the place was full, or suggested after it was filled).

    `rng`: a Generator (drawn in call order, as `matching generate` does) or `Draws.keyed(seed)`
    (each participant's and pair's numbers keyed by seed and rows: see `Draws`). With keyed
    draws, resolving with an earlier `span` gives the same events up to that day as a later
    one, so a period can be resolved in segments."""
    draws = rng if isinstance(rng, Draws) else Draws(rng)
    n_p, n_o = len(parts), len(opens)
    coords = region.set_index("postnummer")[["lat", "lon", "kommunenummer_2025"]]
    p_lat, p_lon = (coords.loc[parts["postal_code"], c].to_numpy(float) for c in ("lat", "lon"))
    o_lat, o_lon = (coords.loc[opens["_postal"], c].to_numpy(float) for c in ("lat", "lon"))
    p_trd = coords.loc[parts["postal_code"], "kommunenummer_2025"].to_numpy() == "5001"
    o_trd = coords.loc[opens["_postal"], "kommunenummer_2025"].to_numpy() == "5001"
    wishes = np.stack(parts["_wishes"].to_numpy()) if n_p else np.zeros((0, 3), int)
    goal = parts["goal"].to_numpy()
    o_kind = opens["kind"].to_numpy()
    o_code = opens["_code"].astype(int).to_numpy()
    p_lic, o_lic = _licence_bits(parts["driving_licences"]), _licence_bits(opens["required_licences"])
    p_bits = _bits(np.stack(parts["_needs"].to_numpy())) if n_p else np.zeros(0, int)
    o_bits = _bits(np.stack(opens["_offers"].to_numpy())) if n_o else np.zeros(0, int)
    reg = parts["_reg"].to_numpy()
    n_pairs = len(pair_p)

    # ---- 3. the true appeal of each pair, seen from each side
    p_, o_ = pair_p, pair_o
    km = haversine_km(p_lat[p_], p_lon[p_], o_lat[o_], o_lon[o_])
    road = 1.3 * km + 1.0
    car = parts["_car"].to_numpy()[p_]
    transit_factor = np.where(p_trd[p_] & o_trd[o_], 1.0, 1.6)
    minutes = np.where(car, 8.0 + road / 50.0 * 60.0, 12.0 + road / 22.0 * 60.0 * transit_factor)
    tolerance = (
        parts["max_commute_km"].to_numpy(float)
        * np.where(parts["_car"], 1.5, 3.5)
        * draws.per_participant("tolerance", "lognormal", 0.0, 0.3, n=n_p)
    )[p_]
    travel = 0.05 * np.maximum(minutes - 10.0, 0.0) + 1.2 * _sigmoid((minutes - tolerance) / 5.0)

    wish = _code_match(o_code[o_], wishes[p_])
    desire = np.array([-0.9, -0.9, 0.1, 0.6, 1.2])[wish]
    kind_pref = np.where(
        (goal[p_] == "job") & (o_kind[o_] == "trial"), -0.8, np.where((goal[p_] == "trial") & (o_kind[o_] == "job"), -0.4, 0.0)
    )
    hours = opens["hours_per_week"].to_numpy(float)[o_]
    max_hours = parts["max_hours_per_week"].to_numpy(float)[p_]
    part_time = parts["wants_part_time"].to_numpy()[p_] == "true"
    # Full-time seekers mostly turn part-time work down; part-time seekers take a small step up
    # from their current maximum (gradual increase) but not much more.
    over = np.maximum(hours - max_hours, 0.0)
    hours_fit = np.where(
        part_time,
        -0.1 * np.minimum(over, 7.5) - 0.3 * np.maximum(over - 7.5, 0.0),
        -0.15 * np.maximum(37.5 - hours, 0.0) - np.where(hours < 30.0, 2.5, 0.0),
    )
    # Someone available only weeks after the start mostly cannot take the place.
    available = pd.to_datetime(parts["available_from"].replace("", None)).to_numpy()[p_]
    begins = pd.to_datetime(opens["start_date"].replace("", None)).to_numpy()[o_]
    late = ((available - begins) / np.timedelta64(1, "D")).astype(float)
    late = np.where(np.isnan(late), 0.0, late)
    timing = -np.where(late > 28, 1.5 + 0.03 * (late - 28), 0.0) - np.where(late > 0, 0.01 * np.minimum(late, 28), 0.0)

    m0 = draws.per_participant("motivation", "normal", 0.0, 1.0, n=n_p)
    drift = draws.per_participant("drift", "normal", 0.0, 0.6, n=n_p)
    motivation = m0[p_] + drift[p_] * (s_day - reg[p_]) / 365.0

    exp_code = np.full((n_p, 2), -10_000)
    exp_years = np.zeros((n_p, 2))
    for i, items in enumerate(parts["_exp"]):
        for j, (code, years) in enumerate(items[:2]):
            exp_code[i, j], exp_years[i, j] = int(code), years
    ec, ey = exp_code[p_], exp_years[p_]
    exp_level = _code_match(np.repeat(o_code[o_, None], 2, axis=1), ec[..., None])
    same4 = (exp_level == similarity.SAME) * ey
    same3 = (exp_level == similarity.CLOSE) * ey
    same2 = (exp_level == similarity.NEAR) * ey
    competence = (
        0.5 * np.log1p(same4.sum(1))
        + 0.25 * np.log1p(same3.sum(1))
        + 0.1 * np.log1p(same2.sum(1))
        + np.where(wish >= 3, 0.3, 0.0)
        - np.where((wish < 2) & (same2.sum(1) + same3.sum(1) + same4.sum(1) == 0), 0.5, 0.0)
    )
    vocab: dict[str, int] = {}
    ps = _skill_matrix(parts["_skills"].tolist(), vocab)
    orq = _skill_matrix(opens["required_skills"].tolist(), vocab)
    n_req = np.asarray(orq.sum(axis=1)).ravel()[o_]
    held = np.asarray(ps[p_].multiply(orq[o_]).sum(axis=1)).ravel()
    skill_fit = np.where(n_req > 0, held / np.maximum(n_req, 1) - 0.3, 0.2)

    nor_rank = {lv: i for i, lv in enumerate(schema.NORWEGIAN_LEVELS)}
    edu_rank = {lv: i for i, lv in enumerate(schema.EDUCATION_LEVELS)}
    trial = o_kind[o_] == "trial"
    nor_gap = np.maximum(opens["min_norwegian"].map(nor_rank).to_numpy()[o_] - parts["norwegian_level"].map(nor_rank).to_numpy()[p_], 0)
    nor_mask = int(_bits((NEED_CATEGORY == "utfordringerMedNorsk")[None, :])[0])
    nor_help = (o_bits[o_] & nor_mask) != 0
    language = -np.where(trial, 0.3, 0.7) * nor_gap * np.where(nor_help, 0.5, 1.0)
    edu_gap = np.maximum(opens["min_education"].map(edu_rank).to_numpy()[o_] - parts["education_level"].map(edu_rank).to_numpy()[p_], 0)
    education = -0.4 * edu_gap * ~trial
    licence = np.where((o_lic[o_] & ~p_lic[p_]) != 0, -3.0, 0.0)

    heavy = np.array([OCC_BY_CODE[str(c)].heavy for c in o_code])[o_]
    uncovered = p_bits[p_] & ~o_bits[o_]
    need_pen = np.zeros(n_pairs)
    for j, code in enumerate(NEED_CODES):
        pen = np.full(n_pairs, NEED_PENALTY[code])
        if code == "TUNGE_LØFT":
            pen = np.where(heavy, 2.5, pen)
        elif code in ("ERGONOMI", "ARBEIDSSTILLING"):
            pen = np.where(heavy, 0.9, pen)
        elif code == "IKKE_HELE_DAGER":
            pen = np.where(hours >= 37.5, 2.0, pen)
        elif code in ("GRADVIS_ØKNING", "TETT_OPPFØLGING"):
            pen = np.where(trial, pen / 2, pen)
        need_pen += ((uncovered >> j) & 1) * pen
    shares = parts["shares_needs_with_employers"].to_numpy()[p_] == "true"

    r = emps["_r"].to_numpy()[opens["_emp"].to_numpy()][o_]
    ia = emps["_ia"].to_numpy()[opens["_emp"].to_numpy()][o_]
    chemistry = draws.per_pair("chemistry", "normal", 0.0, 0.5, p=p_, o=o_)
    u_part = 0.7 * motivation + desire + kind_pref + hours_fit + timing - travel - 0.3 * need_pen + chemistry
    u_emp = (
        0.6 * r
        + 0.25 * ia
        + 0.3 * motivation
        + competence
        + skill_fit
        + language
        + education
        + licence
        - np.where(shares, 1.0, 0.3) * need_pen
        + np.where(trial, 0.9, 0.0)
        + chemistry
    )
    hidden_needs = np.where(shares, 0.0, 0.7) * need_pen  # surface only once at work

    # ---- 4. the funnel: days of each step, season and trend on the employer's side
    start_np = np.datetime64(start.isoformat(), "D")

    def month(day):
        return ((start_np + day.astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12) + 1

    def context(day):
        return _SEASON[month(day)] + 0.15 * day / 365.0

    c_day = s_day + draws.per_pair("contact_day", "integers", 1, 11, p=p_, o=o_)
    i_day = c_day + draws.per_pair("interview_day", "integers", 3, 22, p=p_, o=o_)
    h_day = i_day + np.where(
        trial, draws.per_pair("trial_days", "integers", 28, 91, p=p_, o=o_), draws.per_pair("hire_days", "integers", 3, 31, p=p_, o=o_)
    )
    contacted = draws.per_pair("contacted", "random", p=p_, o=o_) < _sigmoid(A_CONTACT + u_part)
    advanced = contacted & (draws.per_pair("advanced", "random", p=p_, o=o_) < _sigmoid(A_ADVANCE + u_emp + context(i_day)))
    # Some contacts are never answered (issue 14): the chain ends there. Drawn from a child
    # stream, so the other draws stay as they were.
    answer_logit = emps["_answer_logit"].to_numpy()[opens["_emp"].to_numpy()][o_]
    answered = draws.per_pair("answered", "random", p=p_, o=o_, child=True) < _sigmoid(answer_logit)
    advanced &= answered
    hire_logit = (
        np.where(trial, A_HIRE_TRIAL + 0.5 * u_emp + 0.5 * u_part + 0.6 * r, A_HIRE_JOB + 0.6 * u_emp + 0.4 * u_part)
        - hidden_needs
        + context(h_day)
    )
    hired = advanced & (draws.per_pair("hired", "random", p=p_, o=o_) < _sigmoid(hire_logit))
    after_hire_no = draws.per_pair("after_hire_no", "random", p=p_, o=o_) < np.where(trial, _sigmoid(-u_part) * 0.5, 0.25)
    slot_ev = np.zeros((n_pairs, 4), dtype=np.int8)
    slot_day = np.stack(
        [
            s_day,
            np.where(contacted, c_day, s_day + draws.per_pair("declined_day", "integers", 1, 15, p=p_, o=o_)),
            np.where(advanced, i_day, c_day + draws.per_pair("rejected_day", "integers", 2, 22, p=p_, o=o_)),
            h_day,
        ],
        axis=1,
    )
    slot_ev[:, 0] = SUGGESTED
    slot_ev[:, 1] = np.where(contacted, CONTACTED, DECL_P)
    slot_ev[:, 2] = np.where(~contacted | ~answered, NONE, np.where(advanced, np.where(trial, TRIAL, INTERVIEW), DECL_E))
    slot_ev[:, 3] = np.where(~advanced, NONE, np.where(hired, HIRED, np.where(after_hire_no, DECL_P, DECL_E)))
    reason = np.full((n_pairs, 4), "", dtype=object)
    reason[:, 1] = np.where(contacted, "", np.where(minutes > 45, "for lang reisevei", "ønsket ikke å gå videre"))
    reason[:, 2] = np.where(slot_ev[:, 2] == DECL_E, "valgte en annen kandidat", "")
    reason[:, 3] = np.where(
        slot_ev[:, 3] == DECL_E,
        np.where(trial, "arbeidstreningen ga ikke ansettelse", "valgte en annen kandidat"),
        np.where(slot_ev[:, 3] == DECL_P, np.where(trial, "avbrøt arbeidstreningen", "takket nei til tilbudet"), ""),
    )

    # ---- 5. capacity and leaving: hires and trial starts in time order
    positions = opens["positions"].to_numpy()
    cut_day = np.full(n_pairs, np.iinfo(np.int64).max)
    cut_ev = np.zeros(n_pairs, dtype=np.int8)
    cut_reason = np.full(n_pairs, "", dtype=object)
    fill_day = np.full(n_o, np.iinfo(np.int64).max)
    done_day = np.full(n_p, np.iinfo(np.int64).max)
    taken = np.zeros(n_o, dtype=int) if taken_before is None else np.asarray(taken_before, dtype=int).copy()
    # places taken before a replay: hires, and trials running through it
    trial_ends: dict[int, list[int]] = {int(o): [np.iinfo(np.int64).max] * int(taken[o]) for o in np.flatnonzero(taken)}
    ev_pair = np.concatenate([np.flatnonzero(slot_ev[:, 2] == TRIAL), np.flatnonzero(slot_ev[:, 3] == HIRED)])
    ev_slot = np.concatenate([np.full((slot_ev[:, 2] == TRIAL).sum(), 2), np.full((slot_ev[:, 3] == HIRED).sum(), 3)])
    ev_day = slot_day[ev_pair, ev_slot]
    keep = ev_day <= span
    ev_pair, ev_slot, ev_day = ev_pair[keep], ev_slot[keep], ev_day[keep]
    for k in np.lexsort((ev_slot, ev_pair, ev_day)):
        j, slot, day = int(ev_pair[k]), int(ev_slot[k]), int(ev_day[k])
        p, o = int(pair_p[j]), int(pair_o[j])
        if cut_day[j] <= day or fill_day[o] < s_day[j] or done_day[p] < s_day[j]:
            continue  # chain already ended, or never suggested (see below)
        if done_day[p] <= day:  # hired elsewhere (earlier, or the same day)
            cut_day[j], cut_ev[j], cut_reason[j] = day, DECL_P, "har fått jobb"
            continue
        if o_kind[o] == "trial" and slot == 2:
            active_trials = [e for e in trial_ends.get(o, []) if e > day]
            if len(active_trials) >= positions[o]:
                cut_day[j], cut_ev[j], cut_reason[j] = day, DECL_E, "ingen ledig plass nå"
                continue
            trial_ends[o] = active_trials + [int(slot_day[j, 3])]
            continue
        if o_kind[o] == "job":
            if taken[o] >= positions[o]:
                cut_day[j], cut_ev[j], cut_reason[j] = day, DECL_E, "stillingen ble besatt"
                continue
            taken[o] += 1
            if taken[o] >= positions[o]:
                fill_day[o] = day
        else:
            taken[o] += 1
        done_day[p] = min(done_day[p], day)

    # Advisers suggest neither filled jobs nor people who have a job; later steps of running
    # chains end there ("stillingen ble besatt" / "har fått jobb").
    job = ~trial
    dropped = (job & (fill_day[o_] < s_day)) | (done_day[p_] < s_day)
    for limit, ev, why in (
        (np.where(job, fill_day[o_], np.iinfo(np.int64).max), DECL_E, "stillingen ble besatt"),
        (done_day[p_], DECL_P, "har fått jobb"),
    ):
        later = (slot_day > limit[:, None]) & (slot_ev != NONE)
        later[:, 0] = False
        has = later.any(axis=1)
        first_later = np.where(has, later.argmax(axis=1), 0)
        later_day = np.where(has, slot_day[np.arange(n_pairs), first_later], np.iinfo(np.int64).max)
        sooner = has & (later_day < cut_day)
        cut_day[sooner], cut_ev[sooner], cut_reason[sooner] = later_day[sooner], ev, why
    cut = cut_day < np.iinfo(np.int64).max
    at = (slot_day == cut_day[:, None]) & cut[:, None]
    at[:, 0] = False
    first_at = np.where(at.any(axis=1), at.argmax(axis=1), 4)
    slot_idx = np.arange(4)[None, :]
    slot_ev = np.where(slot_idx < first_at[:, None], slot_ev, np.where(slot_idx == first_at[:, None], cut_ev[:, None], NONE)).astype(
        np.int8
    )
    reason = np.where(slot_idx == first_at[:, None], cut_reason[:, None], reason)
    # stop at the reference date: later steps have not happened yet
    slot_ev = np.where(slot_day > span, NONE, slot_ev)
    slot_ev[dropped] = NONE

    # ---- 6. rows
    pi, si = np.nonzero(slot_ev)
    events = slot_ev[pi, si]
    base = np.datetime64(start.isoformat(), "m")
    minutes_of_day = 8 * 60 + draws.per_slot("minute", "integers", 0, 8 * 60, p=pair_p[pi], o=pair_o[pi], slot=si)
    when = base + (slot_day[pi, si] * 1440 + minutes_of_day).astype("timedelta64[m]")
    adviser = advisers(parts)[pair_p[pi]]
    by_employer = np.isin(events, [INTERVIEW, TRIAL, HIRED, DECL_E])
    out = pd.DataFrame(
        {
            "event_id": "",
            "participant_id": parts["participant_id"].to_numpy()[pair_p[pi]],
            "opening_id": opens["opening_id"].to_numpy()[pair_o[pi]],
            "event": EVENT_NAMES[events],
            "reason": reason[pi, si],
            "occurred_at": np.datetime_as_string(when, unit="m"),
            "actor": np.where(by_employer, "employer", adviser),
            "_order": np.arange(len(pi)),
        }
    )
    out = out.sort_values(["occurred_at", "_order"], kind="stable").drop(columns="_order")
    # accepted capacity per opening: job hires / trial starts that happened
    accepted = np.zeros(n_o, dtype=int)
    np.add.at(accepted, pair_o[pi[(events == HIRED) & job[pi]]], 1)
    np.add.at(accepted, pair_o[pi[events == TRIAL]], 1)
    started = np.where(trial, np.where(slot_ev[:, 2] == TRIAL, slot_day[:, 2], -1), np.where(slot_ev[:, 3] == HIRED, slot_day[:, 3], -1))
    full = (job & (fill_day[o_] < s_day)) | np.isin(cut_reason, ["stillingen ble besatt", "ingen ledig plass nå"])
    return out.reset_index(drop=True), accepted, {"start_day": started, "full": full}
