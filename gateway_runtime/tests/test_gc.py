"""The installed config is kept out of the garbage collector's way, and a replaced one is still freed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway_runtime.asgi import GatewayApplication
from gateway_runtime.compiler import compile_stage
from gateway_runtime.config import GatewaySettings
from gateway_runtime.runtime import RuntimeConfig
from gateway_runtime.sources import FileConfigSource
from gateway_runtime.tests import snapshots


def rich_stage(revision: int = 1) -> dict:
    """A stage using what compiles into objects: templates, mappings, parameters, responses, limits."""
    templated = snapshots.http(
        "http://127.0.0.1:9/pets/{id}?kind=$stageVariables.kind",
        requestParameters={"integration.request.path.id": "method.request.path.petId"},
        requestTemplates={"application/json": '{"name": "$input.path(\'$.name\')", "id": "$input.params(\'petId\')"}'},
        responses={
            "200": {"statusCode": "200", "responseTemplates": {"application/json": "{\"ok\": $input.json('$')}"}},
            "4\\d{2}": {"statusCode": "400", "selectionPattern": "4\\d{2}"},
        },
    )
    return snapshots.stage(
        {
            ("/pets/{petId}", "POST"): templated,
            ("/pets", "GET"): snapshots.http_proxy("http://127.0.0.1:9/pets"),
            ("/files/{proxy+}", "ANY"): snapshots.http_proxy("http://127.0.0.1:9/{proxy}"),
            ("/health", "GET"): snapshots.mock(),
        },
        revision=revision,
        variables={"kind": "dog"},
        method_settings={"*/*": snapshots.method_setting(10, 5)},
        key_required=[("/pets", "GET")],
    )


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_dropped_compiled_stage_leaves_no_reference_cycles(collector_off: None) -> None:
    config = rich_stage()
    compiled = compile_stage(config)
    assert compiled.router is not None  # it compiled something worth freeing

    del compiled

    # Nothing was left for the collector: reference counting alone freed the whole stage, so it is freed
    # even after gc.freeze() has put it beyond the collector's reach.
    assert gc.collect() == 0


def test_installing_a_config_moves_it_out_of_the_collectors_way(collector_off: None, tmp_path) -> None:
    config_file = tmp_path / "gateway.json"
    config_file.write_text("{}")
    app = GatewayApplication(FileConfigSource(config_file), GatewaySettings())
    compiled = compile_stage(rich_stage())
    runtime = RuntimeConfig(stages={"abc/prod": compiled})

    app._install(runtime)

    tracked = {id(item) for item in gc.get_objects()}
    assert id(runtime) not in tracked and id(compiled) not in tracked
    assert gc.get_freeze_count() > 0
    assert app.runtime is runtime
