"""The diff between two deployment snapshots."""

from __future__ import annotations

import copy
from typing import Any

from apis.diffing import ADDED, CHANGED, REMOVED, FieldChange, field_changes, flatten, snapshot_diff


def method(uri: str = "http://a.example/items", **extra: Any) -> dict[str, Any]:
    return {
        "httpMethod": "GET",
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "methodResponses": {"200": {"statusCode": "200"}},
        "methodIntegration": {"type": "HTTP", "httpMethod": "GET", "uri": uri, "cacheNamespace": "abc123"},
        **extra,
    }


def snapshot(resources: dict[str, dict[str, Any]], models: list[dict] | None = None) -> dict[str, Any]:
    return {
        "formatVersion": 1,
        "restApi": {"id": "api", "name": "Shop", "apiKeySource": "HEADER"},
        "resources": [
            {"id": f"r{i}", "path": path, "resourceMethods": methods}
            for i, (path, methods) in enumerate(resources.items())
        ],
        "models": models or [],
    }


BASE = snapshot({"/": {}, "/items": {"GET": method()}}, [{"id": "m1", "name": "Item", "schema": "{}"}])


def test_identical_snapshots_have_no_changes() -> None:
    diff = snapshot_diff(old=BASE, new=copy.deepcopy(BASE))
    assert not diff
    assert diff.counts() == {ADDED: 0, REMOVED: 0, CHANGED: 0}


def test_added_and_removed_resources_and_methods() -> None:
    new = snapshot({"/": {"GET": method()}, "/orders": {}}, BASE["models"])
    diff = snapshot_diff(old=BASE, new=new)
    assert [c.key for c in diff.of("resource", ADDED)] == ["/orders"]
    assert [c.key for c in diff.of("resource", REMOVED)] == ["/items"]
    assert [c.key for c in diff.of("method", ADDED)] == ["GET /"]
    assert [c.key for c in diff.of("method", REMOVED)] == ["GET /items"]
    # A method that came or went is not also reported as an integration change.
    assert diff.of("integration") == []


def test_a_changed_integration_names_the_field() -> None:
    new = snapshot({"/": {}, "/items": {"GET": method("http://b.example/items")}}, BASE["models"])
    [change] = snapshot_diff(old=BASE, new=new).changes
    assert (change.kind, change.status, change.key) == ("integration", CHANGED, "GET /items")
    assert change.fields == (FieldChange("/uri", "http://a.example/items", "http://b.example/items"),)


def test_method_changes_leave_the_integration_out() -> None:
    new = snapshot({"/": {}, "/items": {"GET": method(apiKeyRequired=True)}}, BASE["models"])
    [change] = snapshot_diff(old=BASE, new=new).changes
    assert (change.kind, change.key) == ("method", "GET /items")
    assert change.fields == (FieldChange("/apiKeyRequired", False, True),)


def test_an_integration_appearing_on_an_existing_method_is_added() -> None:
    bare = method()
    del bare["methodIntegration"]
    old = snapshot({"/": {}, "/items": {"GET": bare}}, BASE["models"])
    diff = snapshot_diff(old=old, new=BASE)
    assert [(c.kind, c.status) for c in diff.changes] == [("integration", ADDED)]


def test_response_changes_use_patch_like_paths() -> None:
    changed = method()
    changed["methodResponses"]["200"]["responseParameters"] = {"method.response.header.X-Id": True}
    new = snapshot({"/": {}, "/items": {"GET": changed}}, BASE["models"])
    [change] = snapshot_diff(old=BASE, new=new).changes
    assert change.fields == (
        FieldChange("/methodResponses/200/responseParameters/method.response.header.X-Id", None, True),
    )


def test_cache_namespaces_are_not_a_change() -> None:
    moved = method()
    moved["methodIntegration"]["cacheNamespace"] = "zzz999"
    new = snapshot({"/": {}, "/items": {"GET": moved}}, BASE["models"])
    assert not snapshot_diff(old=BASE, new=new)


def test_models_and_api_settings() -> None:
    new = copy.deepcopy(BASE)
    new["models"] = [{"id": "m9", "name": "Item", "schema": '{"type": "object"}'}, {"id": "m2", "name": "Order"}]
    new["restApi"]["apiKeySource"] = "AUTHORIZER"
    diff = snapshot_diff(old=BASE, new=new)
    [api] = diff.of("api")
    assert api.fields == (FieldChange("/apiKeySource", "HEADER", "AUTHORIZER"),)
    assert [c.key for c in diff.of("model", ADDED)] == ["Order"]
    [item] = diff.of("model", CHANGED)
    assert item.fields == (FieldChange("/schema", "{}", '{"type": "object"}'),)


def test_flatten_escapes_slashes_like_json_pointer() -> None:
    assert list(flatten({"requestTemplates": {"application/json": "x"}})) == [
        ("/requestTemplates/application~1json", "x")
    ]
    assert field_changes({"a": [1]}, {"a": [1, 2]}) == [FieldChange("/a", [1], [1, 2])]
