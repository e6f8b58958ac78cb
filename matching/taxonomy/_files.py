"""Locate the reference files shipped inside the package (see reference/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def reference_path(name: str) -> Path:
    """Path of a reference file; fails loudly if the package was installed without it."""
    path = REFERENCE_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"reference file missing from the package: {path}")
    return path
