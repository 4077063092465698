"""JSON-Patch-like `patchOperations`, as every apigateway Update* call takes them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apis.errors import BadRequest

OPS = {"add", "remove", "replace", "move", "copy", "test"}


@dataclass(frozen=True)
class PatchOp:
    op: str
    path: str
    value: Any = None
    from_: str | None = None

    @property
    def text(self) -> str:
        """Return the value as AWS hands it over: always a string."""
        return "" if self.value is None else str(self.value)

    def as_bool(self) -> bool:
        text = self.text.strip().lower()
        if text not in {"true", "false"}:
            raise BadRequest(f"Invalid boolean value '{self.text}' for path {self.path}")
        return text == "true"

    def as_int(self) -> int:
        try:
            return int(self.text)
        except ValueError:
            raise BadRequest(f"Invalid integer value '{self.text}' for path {self.path}") from None

    def as_float(self) -> float:
        try:
            return float(self.text)
        except ValueError:
            raise BadRequest(f"Invalid number value '{self.text}' for path {self.path}") from None


def parse_patch_operations(raw: Any) -> list[PatchOp]:
    """Validate the wire form of patchOperations and return them in order."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest("patchOperations must be a list")
    ops = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadRequest("Each patch operation must be an object")
        op = item.get("op")
        path = item.get("path")
        if op not in OPS:
            raise BadRequest(f"Invalid patch operation specified. Must be one of: {sorted(OPS)}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise BadRequest("Invalid patch path: a path must start with '/'")
        ops.append(PatchOp(op=op, path=path, value=item.get("value"), from_=item.get("from")))
    return ops


def unescape(segment: str) -> str:
    """Decode a JSON Pointer segment (~1 is '/', ~0 is '~')."""
    return segment.replace("~1", "/").replace("~0", "~")


Handler = Callable[[PatchOp, dict[str, str]], None]


@dataclass(frozen=True)
class Route:
    pattern: str
    ops: frozenset[str]
    handler: Handler

    def compile(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.pattern))
        return re.compile(f"^{regex}$")


def route(pattern: str, ops: str, handler: Handler) -> Route:
    return Route(pattern=pattern, ops=frozenset(ops.split()), handler=handler)


def apply_patch(ops: Sequence[PatchOp], routes: Sequence[Route]) -> None:
    """Dispatch each operation to the handler whose path pattern and op match, or reject it."""
    compiled = [(r, r.compile()) for r in routes]
    for op in ops:
        for candidate, regex in compiled:
            match = regex.match(op.path)
            if match is None:
                continue
            if op.op not in candidate.ops:
                raise BadRequest(
                    f"Invalid patch operation specified. Must be one of: [{', '.join(sorted(candidate.ops))}]"
                    f" for path {op.path}"
                )
            candidate.handler(op, {k: unescape(v) for k, v in match.groupdict().items()})
            break
        else:
            raise BadRequest(
                f"Invalid patch path  '{op.path}' specified for op '{op.op}'. Must be one of: "
                f"[{', '.join(r.pattern for r in routes)}]"
            )
