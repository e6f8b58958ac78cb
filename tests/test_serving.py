"""matching.serving without HTTP: a stored list is checked and explained on a small World of
its own rows, exactly as on the whole snapshot, and serving one never builds the snapshot."""
from __future__ import annotations

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
    explained = engine.explanations([p[k] for k in keep], [o[k] for k in keep],
                                    np.stack([rows[k]["levels"] for k in keep]), model) if len(keep) else []
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
        rows = serving.stored_rows(conn, settings, run_id, lists.participant_list(conn, run_id, pid), "opening_id",
                                   participant_id=pid)
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
        office = conn.execute(t.participants.select().with_only_columns(t.participants.c.office_id)
                              .where(t.participants.c.participant_id == pid)).scalar_one()

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
