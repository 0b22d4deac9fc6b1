"""schemathesis against /api/v1/openapi.json: generated requests (valid and invalid, by the spec's required
parameters, enums and bounds) to every operation, as a signed-in token holder; zero server errors allowed.

Bounded: a fixed number of examples per operation and a fixed seed, so the suite stays fast and repeatable.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app import create_app
from auth import accounts
from domain.alerting.lifecycle import AlertSpec
from infra.clock import utcnow
from models.base import get_engine
from tests.conftest import make_settings
from writes.alerts import sync_alerts

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    from models.schema import upgrade
    settings = make_settings(tmp_path_factory.mktemp("fuzz"))
    upgrade(settings.db_url)
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "ops@example.com", "ops", "long-enough-pw")
    TOKEN["value"] = accounts.create_token(engine, "ops@example.com")
    sync_alerts(engine, "trigger.calls_14d", [AlertSpec(
        rule="trigger.calls_14d", type="customer_risk", severity="critical", title="c1 needs a call", message="3 calls",
        dedup_key="trigger.calls_14d:c1", entity_id="c1", current_value=3, expected_value="< 2",
        investigation=["Read the call notes"], link="/customers/c1", details={})], at=utcnow() - timedelta(hours=1))
    return create_app(settings).server


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_never_get_a_server_error(api_app, mode):
    """Every operation of the spec, 25 generated requests each (valid ones, then ones breaking the spec)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    seen: dict[str, set[int]] = {}

    for operation in operations:
        @given(case=operation.as_strategy(mode))
        @hsettings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                   phases=[Phase.generate])
        def run(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            seen.setdefault(operation.label, set()).add(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, case.query, response.status_code)
            if 400 <= response.status_code < 500:
                assert response.json().get("error"), (case.method, case.formatted_path, response.text[:200])
        try:
            run()
        except Unsatisfiable:  # nothing to break: an operation without parameters or body (e.g. /health)
            assert mode == GenerationMode.NEGATIVE and not operation.query and not operation.path_parameters
    assert len(seen) == len(operations) if mode == GenerationMode.POSITIVE else len(seen) >= 8
    if mode == GenerationMode.NEGATIVE:  # requests breaking the spec are refused with a 4xx, not served
        assert any(code >= 400 for codes in seen.values() for code in codes)
