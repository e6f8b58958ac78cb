"""Property-based contract test of the whole API with Schemathesis: every operation in
/openapi.json, called with generated input (valid and invalid) by an admin and by an adviser of
one office, against the real app on a copy of the fixtures database with two published runs.

Checks: no 5xx, every status documented for its operation, the documented content type, the
response body valid against the documented schema, documented headers present.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.auth import create_token
from tests.conftest import _copy_db, settings_for

MAX_EXAMPLES = 25  # per operation and generation mode (valid, invalid), per role
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]


@pytest.fixture(scope="module")
def contract_settings(published, model_dir, tmp_path_factory):
    """A private copy of the published database: generated feedback must not leak into other tests."""
    path = tmp_path_factory.mktemp("schemathesis") / "contract.db"
    _copy_db(published.settings.sqlite_path(), path)
    return settings_for(path, model_dir)


@pytest.fixture(scope="module")
def api_schema(contract_settings):
    app = create_app(contract_settings)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _token(settings, role: str) -> str:
    offices = ["nav-heimdal"] if role == "adviser" else []
    return create_token(f"schemathesis-{role}", role, offices, settings)


def _run(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "adviser"])
def test_api_contract(api_schema, contract_settings, role):
    """Every operation, valid and invalid input: all failures are collected and listed."""
    headers = {"Authorization": f"Bearer {_token(contract_settings, role)}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 17  # + GET …/participants/{id}/events, …/openings/{id}/events, /v1/offices, /v1/reports/fairness
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, headers)
            except Unsatisfiable:  # nothing to make invalid (GET /healthz takes no input)
                assert mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters")
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - check failures, listed below
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
