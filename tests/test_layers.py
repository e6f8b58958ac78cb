"""The layers, as an import contract (read from the source, so a lazy import counts too):

- the domain core — input normalisation (`normalise`), the snapshot (`world`), pairs, features, criteria, scoring, blocking,
  top-k, the engine and the reference taxonomies — imports no SQLAlchemy, nothing from
  `matching.store` and nothing of the web stack: it computes on arrays and is fed a World;
- nothing under `matching/` imports the web app (`api`), but the command line
  (`matching/cli.py`), which is where the whole application is put together (`matching serve`
  starts the app, `matching token` signs with the app's auth).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ["matching/normalise.py", "matching/world.py", "matching/pairs.py", "matching/features.py", "matching/scoring.py",
        "matching/candidates.py", "matching/topk.py", "matching/engine.py",
        "matching/criteria/*.py", "matching/taxonomy/*.py"]
CORE_MAY_NOT = ("sqlalchemy", "matching.store", "api", "fastapi", "starlette")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _forbidden(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports if any(i == p or i.startswith(p + ".") for p in prefixes))


CORE_FILES = sorted({p for pattern in CORE for p in ROOT.glob(pattern)})


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_core_imports_no_storage_and_no_web(path):
    assert _forbidden(_imports(path), CORE_MAY_NOT) == []


def test_the_engine_package_never_imports_the_web_app():
    offenders = {str(p.relative_to(ROOT)): bad for p in (ROOT / "matching").rglob("*.py")
                 if p.name != "cli.py" and (bad := _forbidden(_imports(p), ("api", "fastapi", "starlette")))}
    assert offenders == {}


def test_the_contract_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from sqlalchemy import select\n    from matching.store import tables\n")
    assert _forbidden(_imports(bad), CORE_MAY_NOT) == ["matching.store", "matching.store.tables", "sqlalchemy",
                                                      "sqlalchemy.select"]
    assert len(CORE_FILES) > 15
