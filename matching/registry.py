"""The model registry: trained models are candidates; one of them is served.

A trained model is saved under the model directory as `matcher-<version>.joblib` + its card
`matcher-<version>.json` (`ScoringModel.save`). Which one is served is the pointer
`LATEST` (what `runtime.model` reads, and reloads when it changes). Only `promote` and
`rollback` move the pointer, and each move appends a line to `HISTORY.jsonl` beside it —
who, when, why, from which version to which — which `matching model list` shows; the CLI
also writes an audit row (`store.audit`) in the same step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.scoring import ScoringModel

POINTER = "LATEST"
HISTORY = "HISTORY.jsonl"
LOCK = ".registry.lock"


class RegistryError(ValueError):
    """An unknown version, nothing to roll back to, a model this code cannot load."""


@dataclass(frozen=True)
class Entry:
    version: str
    created: str  # the card's trained_at, else the artefact's mtime (UTC, ISO)
    holdout: dict[str, Any]  # the card's evaluation.holdout (empty if the card has none)
    served: bool


def served(model_dir: Path) -> str | None:
    try:
        return (model_dir / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def card(model_dir: Path, version: str) -> dict[str, Any]:
    path = model_dir / f"matcher-{version}.json"
    if not (model_dir / f"matcher-{version}.joblib").exists():
        known = ", ".join(e.version for e in entries(model_dir)) or "none"
        raise RegistryError(f"no model version {version!r} in {model_dir} (known: {known})")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def annotate(model_dir: Path, version: str, key: str, value: Any) -> None:
    """Set one key of a model's card (e.g. the promotion gate's `fairness` report); the
    weights and the version never change."""
    data = card(model_dir, version)
    data[key] = value
    path = model_dir / f"matcher-{version}.json"
    tmp = model_dir / f".matcher-{version}.json.{os.getpid()}"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def entries(model_dir: Path) -> list[Entry]:
    """Every saved model, oldest first."""
    current = served(model_dir)
    out = []
    for artefact in model_dir.glob("matcher-*.joblib"):
        version = artefact.name.removeprefix("matcher-").removesuffix(".joblib")
        path = model_dir / f"matcher-{version}.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        created = data.get("trained_at") or dt.datetime.fromtimestamp(artefact.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
        holdout = (data.get("evaluation") or {}).get("holdout") or {}
        out.append(Entry(version, created, holdout, version == current))
    return sorted(out, key=lambda e: (e.created, e.version))


def history(model_dir: Path) -> list[dict[str, Any]]:
    path = model_dir / HISTORY
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _served_stack(model_dir: Path) -> list[str]:
    """The versions served one after another, as the history tells it: a promotion pushes, a
    rollback pops. If the pointer was moved outside the registry, it counts as on top."""
    stack: list[str] = []
    for h in history(model_dir):
        if h.get("previous") and (not stack or stack[-1] != h["previous"]):
            stack.append(h["previous"])  # served before the history began (or moved by hand)
        if h["action"] == "rollback" and stack:
            stack.pop()
            if not stack or stack[-1] != h["version"]:
                stack.append(h["version"])
        else:
            stack.append(h["version"])
    current = served(model_dir)
    if current and (not stack or stack[-1] != current):
        stack.append(current)
    return stack


Hook = Callable[[dict[str, Any]], None]


def _move(model_dir: Path, version: str, action: str, by: str, reason: str, before: Hook | None) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise RegistryError("a reason is required")
    card(model_dir, version)  # unknown version: RegistryError
    try:
        ScoringModel.load(model_dir, version)  # never point the server at a model it cannot load
    except (ValueError, KeyError) as exc:
        raise RegistryError(f"model {version} cannot be served by this code: {exc}") from None
    entry = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "action": action,
        "version": version,
        "previous": served(model_dir),
        "by": by,
        "reason": reason,
    }
    if before is not None:  # e.g. the audit row, in a transaction that fails if the move does
        before(entry)
    # the history line first: a pointer never moves without its record
    with (model_dir / HISTORY).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    tmp = model_dir / f".{POINTER}.{os.getpid()}"
    tmp.write_text(version + "\n")
    os.replace(tmp, model_dir / POINTER)  # atomic: a reader sees the old or the new version
    return entry


@contextlib.contextmanager
def _locked(model_dir: Path) -> Iterator[None]:
    """One move at a time (two operators, or the nightly job and an operator): each reads the
    pointer and the history it appends to under an exclusive lock on the model directory."""
    with (model_dir / LOCK).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def promote(model_dir: Path, version: str, *, by: str, reason: str, before: Hook | None = None) -> dict[str, Any]:
    """Serve `version` (a candidate or any earlier model)."""
    with _locked(model_dir):
        if version == served(model_dir):
            raise RegistryError(f"model {version} is already the served one")
        return _move(model_dir, version, "promote", by, reason, before)


def rollback_target(model_dir: Path) -> str:
    stack = _served_stack(model_dir)
    if len(stack) < 2:
        raise RegistryError("no previously served model in the history to roll back to")
    return stack[-2]


def rollback(model_dir: Path, *, by: str, reason: str, before: Hook | None = None) -> dict[str, Any]:
    """Serve again the model served before the current one."""
    with _locked(model_dir):
        return _move(model_dir, rollback_target(model_dir), "rollback", by, reason, before)
