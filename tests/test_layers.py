"""The layers, as an import contract (read from the source, so a lazy import counts too):

- the domain core — input normalisation (`normalise`), the snapshot (`world`), pairs, features, criteria, scoring, blocking,
  top-k, the engine and the reference taxonomies — imports no SQLAlchemy, nothing from
  `matching.store` and nothing of the web stack: it computes on arrays and is fed a World;
- nothing under `matching/` imports the web app (`api`), but the command line
  (`matching/cli.py`), which is where the whole application is put together (`matching serve`
  starts the app, `matching token` signs with the app's auth);
- all SQL lives in `matching/store/`: nothing else in the product (`matching/`, `api/`) imports
  SQLAlchemy or Alembic — `api/` gets its handle types from `matching.store`;
- serving (`matching/serving.py`: stored vs live, no HTTP) imports no web stack;
- the world generator (`worldgen/`, outside the product package) reads no part of the engine
  it is used to measure: not its proximity table, title normaliser, criteria or scoring, so
  improving those never rewrites the fixtures.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "matching/normalise.py",
    "matching/world.py",
    "matching/contacts.py",
    "matching/pairs.py",
    "matching/features.py",
    "matching/scoring.py",
    "matching/candidates.py",
    "matching/topk.py",
    "matching/engine.py",
    "matching/criteria/*.py",
    "matching/taxonomy/*.py",
]
CORE_MAY_NOT = ("sqlalchemy", "matching.store", "api", "fastapi", "starlette")
STORAGE = ("sqlalchemy", "alembic")
WEB = ("api", "fastapi", "starlette")


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
    offenders = {
        str(p.relative_to(ROOT)): bad
        for p in (ROOT / "matching").rglob("*.py")
        if p.name != "cli.py" and (bad := _forbidden(_imports(p), ("api", "fastapi", "starlette")))
    }
    assert offenders == {}


WORLDGEN_MAY_NOT = (
    "matching.taxonomy.proximity",
    "matching.taxonomy.titles",
    "matching.taxonomy.title_model",
    "matching.scoring",
    "matching.criteria",
    "api",
)
WORLDGEN_FILES = sorted((ROOT / "worldgen").rglob("*.py"))


@pytest.mark.parametrize("path", WORLDGEN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_generator_imports_nothing_of_the_engine_it_measures(path):
    imports = _imports(path)
    # "from matching.taxonomy import proximity" names the module as an attribute of the package
    assert _forbidden(imports, WORLDGEN_MAY_NOT) == []


def test_the_generator_is_outside_the_product_package():
    assert not (ROOT / "matching" / "generate").exists()
    assert len(WORLDGEN_FILES) >= 7


def test_the_contract_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from sqlalchemy import select\n    from matching.store import tables\n")
    assert _forbidden(_imports(bad), CORE_MAY_NOT) == ["matching.store", "matching.store.tables", "sqlalchemy", "sqlalchemy.select"]
    assert len(CORE_FILES) > 15
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    from matching.taxonomy import proximity, skills\n")
    assert _forbidden(_imports(lazy), WORLDGEN_MAY_NOT) == ["matching.taxonomy.proximity"]


def _outside_store() -> list[Path]:
    store = ROOT / "matching" / "store"
    return sorted(p for top in ("matching", "api") for p in (ROOT / top).rglob("*.py") if store not in p.parents)


def _storage_offenders(paths: list[Path]) -> dict[str, list[str]]:
    return {str(p.relative_to(ROOT)): bad for p in paths if (bad := _forbidden(_imports(p), STORAGE))}


def test_only_the_store_imports_sqlalchemy_or_alembic():
    paths = _outside_store()
    assert any(p.parts[-2:] == ("api", "deps.py") for p in paths) and any(p.name == "batch.py" for p in paths)
    assert _storage_offenders(paths) == {}


def test_the_api_imports_no_sqlalchemy_at_all():
    api = sorted((ROOT / "api").rglob("*.py"))
    assert len(api) > 10
    assert {str(p.relative_to(ROOT)): bad for p in api if (bad := _forbidden(_imports(p), ("sqlalchemy",)))} == {}


def test_serving_imports_no_web_stack_and_no_sql():
    path = ROOT / "matching" / "serving.py"
    assert _forbidden(_imports(path), WEB + STORAGE) == []


def test_the_storage_contract_would_catch_a_violation(tmp_path):
    (tmp_path / "api").mkdir()
    lazy = tmp_path / "api" / "lazy.py"
    lazy.write_text("def f(conn):\n    from sqlalchemy.exc import IntegrityError\n    import alembic.command\n")
    fine = tmp_path / "api" / "fine.py"
    fine.write_text("from matching.store import Connection, participants\n")
    offenders = {p.name: _forbidden(_imports(p), STORAGE) for p in (lazy, fine)}
    assert offenders == {"lazy.py": ["alembic.command", "sqlalchemy.exc", "sqlalchemy.exc.IntegrityError"], "fine.py": []}
    web = tmp_path / "serving.py"
    web.write_text("from fastapi import HTTPException\n")
    assert _forbidden(_imports(web), WEB) == ["fastapi", "fastapi.HTTPException"]
