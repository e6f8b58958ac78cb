"""A refresh's pruning of old runs, in a process of its own started with the refresh.

The runs the new run's publish will make prunable (`runs.prune_ahead`) lose their lists while
the refresh reads its snapshot and computes its shards. In a process of its own, started before
the snapshot read, the deletes run on the core the snapshot read leaves idle (~8 s at 300k ×
50k) instead of competing with the shard workers for both cores (a thread of the refresh could
only start once the workers were forked). It dies with the refresh (even by SIGKILL); runs it
marked pruned and did not finish are finished by the next refresh's pruning.

A SQLite database in memory cannot be opened by another process: it is pruned in the refresh's
own process, before the snapshot read.

    python -m matching.store.pruning KEEP BATCH   (URL in MATCHING_PRUNE_URL, the refresh's
                                                   pid in MATCHING_PRUNE_PARENT)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from matching.store import runs

_URL, _PARENT = "MATCHING_PRUNE_URL", "MATCHING_PRUNE_PARENT"


class Pruning:
    """The pruning a refresh started (`start`): `wait` for it, or `stop` it."""

    def __init__(self, proc: subprocess.Popen | None):
        self.proc = proc

    def done(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def wait(self) -> None:
        """Raises if the pruning failed (the refresh then fails, as with any error)."""
        if self.proc is not None and self.proc.wait() != 0:
            raise RuntimeError(f"pruning old runs failed (exit status {self.proc.returncode})")

    def stop(self) -> None:
        """End it now (a failed refresh): what it marked pruned, the next refresh deletes."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def start(db: Engine, keep: int, batch: int = runs.PRUNE_BATCH) -> Pruning:
    """Prune (`runs.prune_ahead`) in a process of its own; none when there is nothing to do."""
    with db.connect() as conn:
        if not runs.prune_pending(conn, keep):
            return Pruning(None)
    url = db.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        runs.prune_ahead(db, keep, batch)
        return Pruning(None)
    package_root = str(Path(__file__).resolve().parents[2])  # the directory `matching` is imported from
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, _URL: url.render_as_string(hide_password=False), _PARENT: str(os.getpid()), "PYTHONPATH": path}
    return Pruning(subprocess.Popen([sys.executable, "-m", "matching.store.pruning", str(keep), str(batch)], env=env))


def main(argv: list[str]) -> None:
    from matching.procs import die_with_parent
    from matching.store.db import make_engine

    die_with_parent(int(os.environ[_PARENT]))
    keep, batch = int(argv[0]), int(argv[1])
    db = make_engine(os.environ[_URL])
    runs.prune_ahead(db, keep, batch)
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
