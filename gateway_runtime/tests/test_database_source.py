"""The gateway over the control plane's own tables: deploys reach it quickly and requests never query."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from django.db.backends.utils import CursorWrapper

from apis.patching import PatchOp
from apis.services import deployments, design
from gateway_runtime.asgi import build_application
from gateway_runtime.config import GatewaySettings
from gateway_runtime.sources import DatabaseConfigSource
from gateway_runtime.tests.servers import ServerThread, call


def mock_api(owner: object, body: str) -> tuple[str, str]:
    """Create an API with GET /hello answering `body` from a MOCK integration; return (api id, resource id)."""
    api = design.rest_api_create(owner=owner, name="Hello")
    root = api.resources.get(parent=None)
    resource = design.resource_create(api=api, parent_id=root.id, path_part="hello")
    method = design.method_put(resource=resource, http_method="GET", authorization_type="NONE")
    design.method_response_put(method=method, status_code="200")
    integration = design.integration_put(
        method=method, type="MOCK", request_templates={"application/json": '{"statusCode": 200}'}
    )
    design.integration_response_put(
        integration=integration, status_code="200", response_templates={"application/json": body}
    )
    return api.id, resource.id


def set_body(api_id: str, resource_id: str, body: str) -> None:
    from apis import models as m

    integration = m.Integration.objects.get(method__resource_id=resource_id, method__http_method="GET")
    response = integration.integration_responses.get(status_code="200")
    design.integration_response_update(
        response=response,
        patch_operations=[PatchOp(op="replace", path="/responseTemplates/application~1json", value=body)],
    )


class QueryCounter:
    """Count SQL statements run by any thread of this process."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, original):
        counter = self

        def execute(self, *args, **kwargs):
            with counter._lock:
                counter.count += 1
            return original(self, *args, **kwargs)

        return execute


@pytest.fixture
def query_counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    monkeypatch.setattr(CursorWrapper, "execute", counter.wrap(CursorWrapper.execute))
    monkeypatch.setattr(CursorWrapper, "executemany", counter.wrap(CursorWrapper.executemany))
    yield counter


def serve(poll_seconds: float) -> ServerThread:
    app = build_application(DatabaseConfigSource(), GatewaySettings(config_poll_seconds=poll_seconds))
    return ServerThread(app)


@pytest.mark.django_db(transaction=True)
def test_a_warm_request_runs_no_sql(query_counter: QueryCounter) -> None:
    api_id, _ = mock_api(None, '{"hello": "world"}')
    from apis import models as m

    deployments.deployment_create(api=m.RestApi.objects.get(id=api_id), stage_name="prod")
    server = serve(poll_seconds=3600)
    try:
        host = f"{api_id}.execute-api.localhost"
        first = call(server.port, "GET", "/prod/hello", host=host)
        assert first.status == 200
        assert json.loads(first.body) == {"hello": "world"}
        before = query_counter.count
        assert before > 0, "the counter must see the gateway's own config queries"
        for _ in range(20):
            reply = call(server.port, "GET", "/prod/hello", host=host)
            assert reply.status == 200
        assert query_counter.count == before
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_new_deployment_is_served_within_two_seconds() -> None:
    from apis import models as m

    api_id, resource_id = mock_api(None, '{"version": 1}')
    api = m.RestApi.objects.get(id=api_id)
    deployments.deployment_create(api=api, stage_name="prod")
    server = serve(poll_seconds=1.0)
    try:
        host = f"{api_id}.execute-api.localhost"
        assert call(server.port, "GET", "/prod/hello", host=host).json() == {"version": 1}
        set_body(api_id, resource_id, '{"version": 2}')
        # The undeployed change is not served.
        time.sleep(1.2)
        assert call(server.port, "GET", "/prod/hello", host=host).json() == {"version": 1}
        deployed_at = time.monotonic()
        deployments.deployment_create(api=api, stage_name="prod")
        while call(server.port, "GET", "/prod/hello", host=host).json() != {"version": 2}:
            assert time.monotonic() - deployed_at < 2.0, "new deployment not served within 2 s"
            time.sleep(0.05)
        # Rolling back is a stage update; it reaches the gateway the same way.
        first = m.Deployment.objects.filter(rest_api=api).order_by("created_date").first()
        stage = m.Stage.objects.get(rest_api=api, stage_name="prod")
        rolled_at = time.monotonic()
        deployments.stage_update(
            stage=stage, patch_operations=[PatchOp(op="replace", path="/deploymentId", value=first.id)]
        )
        while call(server.port, "GET", "/prod/hello", host=host).json() != {"version": 1}:
            assert time.monotonic() - rolled_at < 2.0, "rollback not served within 2 s"
            time.sleep(0.05)
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_deleted_stage_stops_being_served() -> None:
    from apis import models as m

    api_id, _ = mock_api(None, '{"ok": true}')
    api = m.RestApi.objects.get(id=api_id)
    deployments.deployment_create(api=api, stage_name="prod")
    server = serve(poll_seconds=0.2)
    try:
        host = f"{api_id}.execute-api.localhost"
        assert call(server.port, "GET", "/prod/hello", host=host).status == 200
        deployments.stage_delete(stage=m.Stage.objects.get(rest_api=api, stage_name="prod"))
        deadline = time.monotonic() + 2
        while call(server.port, "GET", "/prod/hello", host=host).status != 403:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert call(server.port, "GET", "/prod/hello", host=host).json() == {"message": "Forbidden"}
    finally:
        server.stop()
