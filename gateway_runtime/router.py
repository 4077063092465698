"""Route a stage-relative path and verb to a method, with AWS's precedence.

One router per stage, compiled once: a trie of path segments. At each level a literal segment beats a
`{param}`, which beats a `{proxy+}` (greedy: one or more remaining segments, only as the last part). When
the more specific branch has no method for the verb, the next branch is tried, so a `{proxy+} ANY`
catches what a sibling resource does not declare. `ANY` matches every verb; an explicit verb on the same
resource wins over it; HEAD and OPTIONS match only where declared or through `ANY`.

Matching costs one dict lookup per segment (plus backtracking bounded by the depth of the resource tree),
whatever the number of routes.
"""

from __future__ import annotations

import logging
from typing import Generic, TypeVar
from urllib.parse import unquote

logger = logging.getLogger(__name__)

M = TypeVar("M")


class _Node(Generic[M]):
    __slots__ = ("any", "greedy", "greedy_name", "literals", "methods", "param", "param_name")

    def __init__(self) -> None:
        self.literals: dict[str, _Node[M]] = {}
        self.param: _Node[M] | None = None
        self.param_name = ""
        self.greedy: _Node[M] | None = None
        self.greedy_name = ""
        self.methods: dict[str, M] = {}
        self.any: M | None = None

    def method(self, verb: str) -> M | None:
        found = self.methods.get(verb)
        return self.any if found is None else found


def split_path(path: str) -> list[str]:
    """Split a path into its non-empty segments, still percent-encoded."""
    return [segment for segment in path.split("/") if segment]


def _decoded(segment: str) -> str:
    return unquote(segment) if "%" in segment else segment


class Router(Generic[M]):
    """A segment trie from resource paths to per-verb targets."""

    def __init__(self) -> None:
        self._root: _Node[M] = _Node()

    def add(self, resource_path: str, verb: str, target: M) -> None:
        """Register `target` for `verb` (or "ANY") on a resource path such as `/pets/{petId}`."""
        node = self._root
        for part in split_path(resource_path):
            if part.startswith("{") and part.endswith("+}"):
                name = part[1:-2]
                if node.greedy is None:
                    node.greedy, node.greedy_name = _Node(), name
                elif node.greedy_name != name:
                    logger.warning("Conflicting greedy parameters {%s+} and {%s+}", node.greedy_name, name)
                node = node.greedy
            elif part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if node.param is None:
                    node.param, node.param_name = _Node(), name
                elif node.param_name != name:
                    # AWS refuses sibling parameters with different names; keep the first one.
                    logger.warning("Conflicting path parameters {%s} and {%s}", node.param_name, name)
                node = node.param
            else:
                node = node.literals.setdefault(part, _Node())
        verb = verb.upper()
        if verb == "ANY":
            node.any = target
        else:
            node.methods[verb] = target

    def match(self, verb: str, path: str) -> tuple[M, dict[str, str]] | None:
        """Return the target and raw (still percent-encoded) path parameters for a request, or None."""
        segments = split_path(path)
        params: dict[str, str] = {}
        # A greedy parameter keeps a trailing slash the client sent; backends may care about it.
        tail = "/" if len(path) > 1 and path.endswith("/") else ""
        target = self._walk(self._root, segments, 0, verb, params, tail)
        return None if target is None else (target, params)

    def _walk(
        self, node: _Node[M], segments: list[str], index: int, verb: str, params: dict[str, str], tail: str
    ) -> M | None:
        if index == len(segments):
            return node.method(verb)
        segment = segments[index]
        child = node.literals.get(_decoded(segment))
        if child is not None:
            found = self._walk(child, segments, index + 1, verb, params, tail)
            if found is not None:
                return found
        if node.param is not None:
            found = self._walk(node.param, segments, index + 1, verb, params, tail)
            if found is not None:
                params[node.param_name] = segment
                return found
        if node.greedy is not None:
            found = node.greedy.method(verb)
            if found is not None:
                params[node.greedy_name] = "/".join(segments[index:]) + tail
                return found
        return None


def template_params(resource_path: str, path: str) -> dict[str, str]:
    """Read raw path parameters by laying `path` over one resource path (TestInvokeMethod has no routing)."""
    parts = split_path(resource_path)
    segments = split_path(path)
    params: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if index < len(segments):
                params[part[1:-2]] = "/".join(segments[index:])
            break
        if index >= len(segments):
            break
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[index]
    return params
