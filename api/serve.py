"""Several worker processes sharing one live snapshot: gunicorn forks them after it is built.

`matching serve --workers N` (N > 1; the default is one per core) runs gunicorn with
uvicorn's worker class and `preload_app`: the master process builds the app and — unless
`MATCHING_SNAPSHOT_WARM=false` — the live snapshot (`runtime.snapshot`), then forks the
workers. A forked worker starts with the snapshot already in its memory and shares its pages
with its siblings (copy on write: the numpy arrays are never written, so they stay shared;
Python objects whose reference counts change are copied page by page), instead of each
worker building its own (~1.9 GB resident each at 300k participants × 50k openings, and
tens of seconds of CPU per worker at start). The objects are frozen (`gc.freeze`) before the
fork, so the workers' garbage collections do not touch, and so copy, the inherited pages.

After a data change each worker rebuilds its own snapshot, as before. The master keeps its
references to the first one (gunicorn has no hook after the last fork, and dropping them
earlier would leave the workers nothing to inherit): shared, that costs nothing while the
workers use it, and after a data change the master's copy stays resident until a worker is
replaced — then the master lets go of it (`_before_fork`) and the newcomer builds its own.

Database connections: the master's pooled connections must not be used by two processes,
so every engine's pool is replaced in the child (`matching.store.db`, `os.register_at_fork`).
Each worker audits on its own (audit rows are committed before each answer, whichever worker
answers); metrics add up over the workers through `PROMETHEUS_MULTIPROC_DIR`, which the CLI
sets before anything imports prometheus_client.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from api.balance import Slots
from matching import runtime
from matching.config import Settings

log = logging.getLogger(__name__)

#: uvicorn's gunicorn worker, accepting so that keep-alive connections spread evenly (api/balance.py).
WORKER_CLASS = "api.balance.BalancedWorker"


def preloaded_app(settings: Settings) -> Any:
    """The app, with the live snapshot built first when the settings warm it (in the master,
    before the fork, so every worker inherits it)."""
    from api.app import create_app

    app = create_app(settings)
    if settings.snapshot_warm:
        try:
            snap = runtime.snapshot(settings, wait=runtime.FOREVER)
            log.info("live snapshot v%d built before forking the workers (%.1f s)", snap.version, snap.seconds)
        except Exception as exc:  # noqa: BLE001 - stored lists and health still work; workers build on demand
            log.error("could not build the live snapshot before forking: %s", exc)
    # Move everything allocated so far out of the garbage collector's reach: a collection in a
    # worker would otherwise write to the header of every inherited object and so copy every
    # page holding one (the workers' memory would stop being shared).
    gc.freeze()
    return app


class Server(BaseApplication):
    """gunicorn, configured in code (no config file, no command-line parsing of its own)."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int) -> None:
        self.settings = settings
        slots = Slots(2 * workers)  # open connections per worker (api/balance.py); room for replacements

        def pre_fork(server: Any, worker: Any) -> None:
            _before_fork(server, worker)
            worker.balance_slots, worker.balance_slot = slots, slots.claim()

        def child_exit(server: Any, worker: Any) -> None:
            slots.release(worker.pid)

        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": WORKER_CLASS,
            "preload_app": True,
            # A worker's event loop stays free during live ranking (it runs in threads); the
            # heartbeat may still lag behind a busy GIL, so allow more than the default 30 s.
            "timeout": 120,
            "graceful_timeout": 30,
            "pre_fork": pre_fork,
            "child_exit": child_exit,
            # uvicorn's access log goes to gunicorn's, which has a handler only with `accesslog`
            # set (MATCHING_ACCESS_LOG=true: to stdout).
            "accesslog": "-" if settings.access_log else None,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return preloaded_app(self.settings)


def _before_fork(server: Any, worker: Any) -> None:
    """In the master, before each fork. The first `workers` forks inherit the snapshot; when
    a worker is replaced later (it died), the master first lets go of its references, so the
    newcomer builds its own and the master holds no outdated copy from then on."""
    if worker.age > server.num_workers:
        runtime.forget()
        gc.unfreeze()  # in the master only: the workers keep their frozen copies
        gc.collect()


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    Server(settings, host, port, workers).run()
