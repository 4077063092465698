"""Mapping templates, substitution only: this is not VTL.

AWS mapping templates are Velocity (VTL). Until a VTL engine is wired in, templates are compiled into
literal text plus plain references, and rendering substitutes only these:

- `$input.body` (the payload as text),
- `$context.<name>` (`requestId`, `apiId`, `stage`, `httpMethod`, `resourcePath`, `error.message`,
  `error.messageString`, …),
- `$stageVariables.<name>`,

in `$a.b` or `${a.b}` form. Any other reference, directive (`#set`, `#if`) or method call is left exactly as
written, which is what VTL itself does with an undefined reference. A VTL engine replaces
`compile_template` and `SubstitutionTemplate.render` and keeps the `TemplateScope` it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}|(?P<plain>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))"
)
_ROOTS = ("input.body", "context.", "stageVariables.")


@dataclass(slots=True)
class TemplateScope:
    """The values a template may read; `context` is built lazily because most templates never ask."""

    body: Callable[[], str]
    context: Callable[[], Mapping[str, object]]
    stage_variables: Mapping[str, str]

    def lookup(self, path: str) -> str | None:
        """Return the text for a dotted reference, or None when it is not something this engine knows."""
        if path == "input.body":
            return self.body()
        if path.startswith("stageVariables."):
            value = self.stage_variables.get(path[len("stageVariables.") :])
            return None if value is None else str(value)
        if path.startswith("context."):
            node: object = self.context()
            for part in path[len("context.") :].split("."):
                if not isinstance(node, Mapping) or part not in node:
                    return None
                node = node[part]
            return None if node is None or isinstance(node, Mapping) else str(node)
        return None


class SubstitutionTemplate:
    """A compiled template: literal text interleaved with references, rendered by substitution."""

    __slots__ = ("is_empty", "parts", "source", "static", "static_bytes")

    def __init__(self, source: str, parts: tuple[str | tuple[str, str], ...]):
        self.source = source
        self.parts = parts
        # Most templates (MOCK bodies, error messages) have no reference at all: render is then a constant.
        self.static: str | None = source if all(isinstance(part, str) for part in parts) else None
        self.static_bytes = None if self.static is None else self.static.encode()
        # A template with no text means "pass the body through" to AWS.
        self.is_empty = not source.strip()

    def render(self, scope: TemplateScope) -> str:
        """Return the text with every known reference substituted."""
        if self.static is not None:
            return self.static
        return self._substitute(scope)

    def render_bytes(self, scope: Callable[[], TemplateScope]) -> bytes:
        """Return the rendered text as UTF-8; `scope` is only called when there is something to substitute."""
        if self.static_bytes is not None:
            return self.static_bytes
        return self._substitute(scope()).encode()

    def _substitute(self, scope: TemplateScope) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            path, written = part
            value = scope.lookup(path)
            out.append(written if value is None else value)
        return "".join(out)


def compile_template(source: str | None) -> SubstitutionTemplate:
    """Split a template into literal text and the references this engine can substitute."""
    text = source or ""
    parts: list[str | tuple[str, str]] = []
    position = 0
    for match in _REFERENCE.finditer(text):
        path = match.group("braced") or match.group("plain")
        if not (path == "input.body" or path.startswith(_ROOTS[1:])):
            continue
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append((path, match.group(0)))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return SubstitutionTemplate(text, tuple(parts))
