"""matching.serving without HTTP: a stored list is checked and explained on a small World of
its own rows, exactly as on the whole snapshot, and serving one never builds the snapshot."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import update

from matching import candidates, runtime, serving
from matching.pairs import Pairs
from matching.store import lists
from matching.store import tables as t
from tests.conftest import _copy_db, db_engine, settings_for


def _on_the_snapshot(settings, rows, other, participant_id=None, opening_id=None):
    """What the stored rows give on the whole snapshot (the employer view for an opening's list):
    [(other id, explanation)] of those that pass every hard constraint."""
    engine = runtime.match_engine(settings)
    if opening_id is not None:
        engine = engine.employer
    w = engine.world
    pids = [participant_id or r[other] for r in rows]
    oids = [opening_id or r[other] for r in rows]
    p = [w.participants.index[x] for x in pids]
    o = [w.openings.index[x] for x in oids]
    ok = candidates.passes(Pairs.build(w, p, o, engine.as_of.toordinal()))
    keep = np.flatnonzero(ok)
    with db_engine(settings).connect() as conn:
        model = serving.run_model(conn, settings, lists.serving(conn).run_id)
    explained = (
        engine.explanations([p[k] for k in keep], [o[k] for k in keep], np.stack([rows[k]["levels"] for k in keep]), model)
        if len(keep)
        else []
    )
    return [(rows[k][other], e) for k, e in zip(keep, explained)]


def _sample(listed: dict, n: int) -> list[str]:
    keys = sorted(listed)
    return keys[:: max(1, len(keys) // n)][:n]


@pytest.mark.parametrize("side", ["participant", "opening"])
def test_a_stored_list_is_checked_and_explained_as_on_the_whole_snapshot(published, side):
    settings = published.settings
    other = "opening_id" if side == "participant" else "participant_id"
    with db_engine(settings).connect() as conn:
        run_id = lists.serving(conn).run_id
        subjects = _sample(lists.run_lists(conn, run_id, side), 40)
        assert len(subjects) >= 20
        checked = 0
        for key in subjects:
            read = lists.participant_list if side == "participant" else lists.opening_list
            kw = {"participant_id": key} if side == "participant" else {"opening_id": key}
            got = serving.stored_rows(conn, settings, run_id, read(conn, run_id, key), other, **kw)
            assert got is not None
            expected = _on_the_snapshot(settings, read(conn, run_id, key), other, **kw)
            assert [(r[other], r["explanation"]) for r in got] == expected
            checked += len(expected)
    assert checked > 100


def test_a_constraint_failed_since_the_run_drops_the_pair_on_the_small_world(published, tmp_path):
    path = tmp_path / "filled.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    settings = settings_for(path, published.settings.model_dir)
    engine = db_engine(settings)
    with engine.connect() as conn:
        run_id = lists.serving(conn).run_id
        pid, items = next((p, x) for p, x in sorted(lists.run_lists(conn, run_id).items()) if len(x) >= 3)
    filled = items[1][1]
    with engine.begin() as conn:
        conn.execute(update(t.openings).where(t.openings.c.opening_id == filled).values(status="filled"))
    with engine.connect() as conn:
        rows = serving.stored_rows(conn, settings, run_id, lists.participant_list(conn, run_id, pid), "opening_id", participant_id=pid)
    assert rows is not None
    assert [r["opening_id"] for r in rows] == [o for _, o, _ in items if o != filled]


def test_serving_stored_lists_never_builds_the_snapshot(published, auth, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    path = tmp_path / "stored-only.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    settings = settings_for(path, published.settings.model_dir).model_copy(update={"snapshot_warm": False})
    with db_engine(settings).connect() as conn:
        run_id = lists.serving(conn).run_id
        pid = sorted(lists.run_lists(conn, run_id))[0]
        oid = sorted(lists.run_lists(conn, run_id, "opening"))[0]
        office = conn.execute(
            t.participants.select().with_only_columns(t.participants.c.office_id).where(t.participants.c.participant_id == pid)
        ).scalar_one()

    def built() -> bool:
        slot = runtime._slots.get(settings.database_url)
        return slot is not None and (slot.snapshot is not None or slot.pending is not None)

    with TestClient(create_app(settings)) as client:  # runs the start-up: no warm-up with snapshot_warm false
        stored = client.get(f"/v1/participants/{pid}/matches", headers=auth("adviser", office))
        listed = client.get(f"/v1/openings/{oid}/candidates", headers=auth("admin"))
        assert stored.status_code == listed.status_code == 200
        assert stored.json()["run_id"] == listed.json()["run_id"] == run_id
        assert stored.json()["matches"] and listed.json()["candidates"]
        assert not built()
        live = client.get(f"/v1/participants/{pid}/matches", params={"fresh": "true"}, headers=auth("adviser", office))
        assert live.status_code == 200 and live.json()["run_id"] is None
        assert built()


# ----------------------------------------------------------------------------- quoted values (issue 10)


def _stored(settings, pid):
    with db_engine(settings).connect() as conn:
        run_id = lists.serving(conn).run_id
        return run_id, lists.read_participant_list(conn, run_id, pid)


def _quoted_read(settings, pid):
    """(served from the quoted values?, [(opening id, explanation)]) of a participant's stored list."""
    run_id, stored = _stored(settings, pid)
    with db_engine(settings).connect() as conn:
        holds = serving._quoted_hold(conn, settings, run_id, pid, stored.rows, stored.quoted)
        got = serving.stored_rows(conn, settings, run_id, stored.rows, "opening_id", participant_id=pid, quoted=stored.quoted)
    return holds, [(r["opening_id"], r["explanation"]) for r in got]


def test_a_stored_list_explained_from_its_quoted_values_equals_the_whole_snapshot(published):
    settings = published.settings
    with db_engine(settings).connect() as conn:
        listed = lists.run_lists(conn, lists.serving(conn).run_id)
    subjects = _sample({p: x for p, x in listed.items() if x}, 40)
    checked = 0
    for pid in subjects:
        holds, got = _quoted_read(settings, pid)
        assert holds, pid  # nothing changed since the run: no World needed
        rows = _stored(settings, pid)[1].rows
        assert got == _on_the_snapshot(settings, rows, "opening_id", participant_id=pid)
        checked += len(got)
    assert checked > 100


def test_quoted_values_move_with_the_day_until_a_listed_deadline_passes(published):
    settings = published.settings
    run_id, _ = _stored(settings, "x")
    with db_engine(settings).connect() as conn:
        listed = lists.run_lists(conn, run_id)
    pid = next(p for p in sorted(listed) if _stored(settings, p)[1].quoted.until is not None)
    until = _stored(settings, pid)[1].quoted.until
    rows = _stored(settings, pid)[1].rows
    day = dt.date.fromordinal(until)  # the last day every listed opening is still open
    later = settings.model_copy(update={"today": day})
    holds, got = _quoted_read(later, pid)
    assert holds
    assert got == _on_the_snapshot(later, rows, "opening_id", participant_id=pid)
    assert any(e.features["deadline"].values["days"] == 0 for _, e in got if "deadline" in e.features)
    after = settings.model_copy(update={"today": day + dt.timedelta(days=1)})
    holds, got = _quoted_read(after, pid)
    assert not holds  # a listed deadline passed: checked on a small World, that opening drops
    assert got == _on_the_snapshot(after, rows, "opening_id", participant_id=pid)
    assert len(got) < len(rows)


@pytest.mark.parametrize("change", ["title", "employer", "participant", "other"])
def test_a_row_written_since_the_run_retires_the_quoted_values_of_its_lists_only(published, tmp_path, change):
    path = tmp_path / "changed.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    settings = settings_for(path, published.settings.model_dir)
    run_id, _ = _stored(settings, "x")
    with db_engine(settings).connect() as conn:
        listed = lists.run_lists(conn, run_id)
    pid = next(p for p, x in sorted(listed.items()) if len(x) >= 3)
    stored = _stored(settings, pid)[1]
    oid, orgnr = stored.rows[1]["opening_id"], stored.quoted.openings["orgnr"][1]
    unrelated = next(p for p, x in sorted(listed.items()) if p != pid and oid not in {o for _, o, _ in x})
    with db_engine(settings).begin() as conn:
        if change == "title":
            conn.execute(update(t.openings).where(t.openings.c.opening_id == oid).values(title="Ny tittel"))
        elif change == "employer":
            conn.execute(update(t.employers).where(t.employers.c.orgnr == orgnr).values(name="Nytt navn AS"))
        elif change == "participant":
            conn.execute(update(t.participants).where(t.participants.c.participant_id == pid).values(max_commute_km=0.5))
        else:
            conn.execute(update(t.participants).where(t.participants.c.participant_id == unrelated).values(max_commute_km=0.5))
    holds, got = _quoted_read(settings, pid)
    assert holds == (change == "other")
    assert got == _on_the_snapshot(settings, stored.rows, "opening_id", participant_id=pid)
    if change in ("title", "employer"):
        with db_engine(settings).connect() as conn:
            items = serving.participant_matches(conn, settings, pid, kind="any", limit=10, fresh=False)["matches"]
        shown = next(m for m in items if m["opening_id"] == oid)
        assert shown["title" if change == "title" else "employer_name"] in ("Ny tittel", "Nytt navn AS")
    if change == "participant":
        assert len(got) < len(stored.rows)  # beyond the new commute limit


def test_changed_since_sees_every_kind_of_write(published, tmp_path):
    from matching.store import versioning

    path = tmp_path / "written.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    engine = db_engine(settings_for(path, published.settings.model_dir))
    with engine.connect() as conn:
        v = versioning.current(conn)
        pid, oid = conn.execute(t.openings.select().with_only_columns(t.openings.c.opening_id)).scalar(), None
        oid, pid = pid, conn.execute(t.participants.select().with_only_columns(t.participants.c.participant_id)).scalar()
        assert not versioning.changed_since(conn, v, participants=[pid], openings=[oid])
    with engine.begin() as conn:
        conn.execute(t.outcomes.delete().where(t.outcomes.c.participant_id == pid))
        conn.execute(t.participants.delete().where(t.participants.c.participant_id == pid))
    with engine.connect() as conn:
        assert versioning.changed_since(conn, v, participants=[pid])
        assert not versioning.changed_since(conn, v, openings=[oid])
        assert versioning.current(conn) > v


def test_a_run_stores_a_list_for_everyone_it_ranked_and_an_empty_one_is_served_as_stored(published, tmp_path, auth):
    from fastapi.testclient import TestClient

    from api.app import create_app

    path = tmp_path / "lonely.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    settings = settings_for(path, published.settings.model_dir)
    engine = db_engine(settings)
    with engine.connect() as conn:
        pid, office = conn.execute(
            t.participants.select().with_only_columns(t.participants.c.participant_id, t.participants.c.office_id)
        ).first()
    with engine.begin() as conn:  # nobody can reach them: no candidate, an empty list
        conn.execute(update(t.participants).where(t.participants.c.participant_id == pid).values(max_commute_km=0.0, lat=80.0, lon=0.0))
    from matching.batch import refresh

    run_id = refresh(settings, db=engine).run_id
    with engine.connect() as conn:
        n = len(conn.execute(t.participants.select()).fetchall())
        assert len(lists.run_lists(conn, run_id)) == n  # every participant has a row
        assert lists.read_participant_list(conn, run_id, pid).rows == []
        assert lists.read_participant_list(conn, run_id, "P-nobody") is None
        open_ids = {r.opening_id for r in conn.execute(t.openings.select().where(t.openings.c.status == "open"))}
        assert open_ids <= set(lists.run_lists(conn, run_id, "opening"))
    settings = settings.model_copy(update={"snapshot_warm": False})
    with TestClient(create_app(settings)) as client:
        got = client.get(f"/v1/participants/{pid}/matches", headers=auth("adviser", office))
        assert got.status_code == 200
        assert got.json()["run_id"] == run_id and got.json()["matches"] == []
        slot = runtime._slots.get(settings.database_url)
        assert slot is None or (slot.snapshot is None and slot.pending is None)  # no snapshot built for it


def test_a_read_beyond_the_quoted_entries_is_explained_on_a_small_world_and_stays_stored(published, tmp_path, auth):
    """The run quotes every listed opening's summary but the reasons' values of each list's
    first `quoted_entries` only: a request those cover is served from them; one that shows an
    entry beyond them (a larger limit, a kind filter) is checked and explained on a small World
    of the whole stored list — still the stored list, equal to the live one, no snapshot."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from matching.batch import refresh

    path = tmp_path / "short-quotes.db"
    _copy_db(published.settings.database_url.removeprefix("sqlite:///"), path)
    settings = settings_for(path, published.settings.model_dir).model_copy(update={"quoted_entries": 4})
    run_id = refresh(settings, db=db_engine(settings)).run_id
    with db_engine(settings).connect() as conn:
        listed = lists.run_lists(conn, run_id)
    pid = next(p for p, x in sorted(listed.items()) if len(x) == settings.top_k)
    stored = _stored(settings, pid)[1]
    assert stored.quoted.n_explained() == 4 < len(stored.quoted.openings["orgnr"]) == len(stored.rows)
    kinds = sorted(set(stored.quoted.openings["kind"]))

    def shown(got):
        return [(m["opening_id"], m["explanation"], [s["opening_id"] for s in m["similar_openings"]]) for m in got["matches"]]

    with db_engine(settings).connect() as conn:
        office = conn.execute(
            t.participants.select().with_only_columns(t.participants.c.office_id).where(t.participants.c.participant_id == pid)
        ).scalar_one()
        for kind, limit in [("any", 2), ("any", 4), ("any", 10), *((k, 10) for k in kinds)]:
            got = serving.participant_matches(conn, settings, pid, kind=kind, limit=limit, fresh=False)
            live = serving.participant_matches(conn, settings, pid, kind=kind, limit=limit, fresh=True)
            # a kind filter that leaves fewer than `limit` of a list cut at K is computed live, by design
            assert got["run_id"] == (run_id if kind == "any" or len(got["matches"]) == limit else None), (kind, limit)
            assert live["run_id"] is None and shown(got) == shown(live), (kind, limit)
    copy = tmp_path / "short-quotes-stored-only.db"  # a database no snapshot was built for
    _copy_db(path, copy)
    stored_only = settings_for(copy, settings.model_dir).model_copy(update={"quoted_entries": 4, "snapshot_warm": False})
    with TestClient(create_app(stored_only)) as client:
        for limit in (2, 10):
            got = client.get(f"/v1/participants/{pid}/matches", params={"limit": limit}, headers=auth("adviser", office))
            assert got.status_code == 200 and got.json()["run_id"] == run_id and got.json()["matches"]
        slot = runtime._slots.get(stored_only.database_url)
        assert slot is None or (slot.snapshot is None and slot.pending is None)  # neither read built the snapshot


def test_quoted_values_stored_by_an_older_run_zlib_compressed_still_read():
    import zlib

    import orjson

    quoted = lists.Quoted({"distance": {"km": [1.5, 0.0]}}, {"kind": ["job", "trial"], "orgnr": ["1", "2"]}, 740000)
    packed = lists.pack_quoted(quoted)
    assert packed.startswith(b"\x28\xb5\x2f\xfd")  # zstd today
    older = zlib.compress(orjson.dumps(quoted._asdict()), 1)  # what runs before zstd stored
    assert lists.unpack_quoted(older) == lists.unpack_quoted(packed) == quoted
    assert lists.unpack_quoted(None) is None


@pytest.mark.parametrize("kind", ["any", "job", "trial"])
def test_a_live_list_explained_where_shown_equals_the_list_explained_in_full(published, kind):
    """`_live_match_items` explains only the entries it shows (`MatchEngine.listed`); the list,
    its grouping of similar openings and every explanation equal what explaining all K that
    `MatchEngine.recommend` ranks gives."""
    settings = published.settings
    engine = runtime.match_engine(settings)
    people = range(0, len(engine.world.participants), max(1, len(engine.world.participants) // 40))
    compared = 0
    with db_engine(settings).connect() as conn:
        for i in people:
            for limit in (3, 10):
                got = serving._live_match_items(conn, engine, i, kind, limit, settings.top_k, set())
                scored = engine.recommend(np.array([i]), kind, k=max(limit, settings.top_k)).get(i, [])
                rows = [
                    {
                        "opening_id": s.opening_id,
                        "score": s.score,
                        "explanation": s.explanation,
                        "opening": {
                            "opening_id": s.opening_id,
                            **{
                                c: engine.world.openings.col(c)[engine.world.openings.index[s.opening_id]]
                                for c in ("kind", "title", "employer_name", "orgnr")
                            },
                        },
                    }
                    for s in scored
                ]
                assert got == serving._match_items(conn, rows, kind, limit, set())
                compared += bool(got)
    assert compared >= 20
