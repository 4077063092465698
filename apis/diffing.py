"""Compare two deployment snapshots: which resources, methods, integrations and models changed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
KINDS = ("api", "resource", "method", "integration", "model")
# Fields that differ between snapshots without the API having changed.
IGNORED_INTEGRATION_FIELDS = {"cacheNamespace"}
IGNORED_API_FIELDS = {"id"}


@dataclass(frozen=True)
class FieldChange:
    path: str  # a JSON-pointer-like path inside the compared object, as patch operations name it
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    status: str  # added | removed | changed
    key: str  # "/pets", "GET /pets", a model name
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class SnapshotDiff:
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of(self, kind: str, status: str | None = None) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and (status is None or c.status == status)]

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for c in self.changes if c.status == status) for status in (ADDED, REMOVED, CHANGED)}


def _escape(segment: str) -> str:
    return str(segment).replace("~", "~0").replace("/", "~1")


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, leaf) pairs of nested dicts; lists and scalars are leaves."""
    if isinstance(value, Mapping) and value:
        for key in sorted(value):
            yield from flatten(value[key], f"{prefix}/{_escape(key)}")
    else:
        yield prefix or "/", value


def field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore: frozenset[str] | set[str] = frozenset()
) -> list[FieldChange]:
    """Return the leaf-level differences between two documents."""
    old_flat = {p: v for p, v in flatten(old) if p.split("/")[1] not in ignore}
    new_flat = {p: v for p, v in flatten(new) if p.split("/")[1] not in ignore}
    return [
        FieldChange(path=p, old=old_flat.get(p), new=new_flat.get(p))
        for p in sorted(old_flat.keys() | new_flat.keys())
        if old_flat.get(p) != new_flat.get(p)
    ]


def _methods(snapshot: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (resource["path"], verb): method
        for resource in snapshot.get("resources", [])
        for verb, method in (resource.get("resourceMethods") or {}).items()
    }


def _without(document: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


def _keyed(kind: str, old: Mapping[Any, Any], new: Mapping[Any, Any], render, compare) -> list[Change]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        label = render(key)
        if key not in old:
            changes.append(Change(kind, ADDED, label))
        elif key not in new:
            changes.append(Change(kind, REMOVED, label))
        else:
            fields = compare(old[key], new[key])
            if fields:
                changes.append(Change(kind, CHANGED, label, tuple(fields)))
    return changes


def snapshot_diff(*, old: Mapping[str, Any], new: Mapping[str, Any]) -> SnapshotDiff:
    """Return what changed from the `old` deployment snapshot to the `new` one."""
    changes: list[Change] = []
    api_fields = field_changes(old.get("restApi") or {}, new.get("restApi") or {}, IGNORED_API_FIELDS)
    if api_fields:
        changes.append(Change("api", CHANGED, "API settings", tuple(api_fields)))

    old_paths = {r["path"] for r in old.get("resources", [])}
    new_paths = {r["path"] for r in new.get("resources", [])}
    changes += [Change("resource", ADDED, p) for p in sorted(new_paths - old_paths)]
    changes += [Change("resource", REMOVED, p) for p in sorted(old_paths - new_paths)]

    old_methods, new_methods = _methods(old), _methods(new)

    def method_label(key: tuple[str, str]) -> str:
        return f"{key[1]} {key[0]}"

    changes += _keyed(
        "method",
        old_methods,
        new_methods,
        method_label,
        lambda a, b: field_changes(_without(a, "methodIntegration"), _without(b, "methodIntegration")),
    )
    both = old_methods.keys() & new_methods.keys()
    old_integrations = {k: old_methods[k]["methodIntegration"] for k in both if "methodIntegration" in old_methods[k]}
    new_integrations = {k: new_methods[k]["methodIntegration"] for k in both if "methodIntegration" in new_methods[k]}
    changes += _keyed(
        "integration",
        old_integrations,
        new_integrations,
        method_label,
        lambda a, b: field_changes(a, b, IGNORED_INTEGRATION_FIELDS),
    )
    changes += _keyed(
        "model",
        {x["name"]: x for x in old.get("models", [])},
        {x["name"]: x for x in new.get("models", [])},
        str,
        lambda a, b: field_changes(_without(a, "id"), _without(b, "id")),
    )
    return SnapshotDiff(changes=tuple(changes))
