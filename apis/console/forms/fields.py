"""Form plumbing shared by the console's forms: Bootstrap rendering and text formats for maps and templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms

from apis.patching import PatchOp

DEFAULT_CONTENT_TYPE = "application/json"
TEMPLATE_HEADER = re.compile(r"^=== *(?P<type>[\w.+\-]+/[\w.+\-*]+) *===$")
TRUE_WORDS = {"true", "yes", "required", "1"}
FALSE_WORDS = {"false", "no", "optional", "0", ""}


class ConsoleForm(forms.Form):
    """A form whose widgets carry Bootstrap classes and mark invalid fields for assistive technology."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 4)
                widget.attrs.setdefault("spellcheck", "false")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{self.auto_id % name}_errors" if self.auto_id else ""


def code_area(rows: int = 4, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "font-monospace", **attrs})


def parse_bool(text: str, where: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise forms.ValidationError(f"{where}: expected true or false, got {text!r}")


class MappingField(forms.CharField):
    """A map typed as `name = value` lines; with `booleans` the values are true/false (required or not)."""

    def __init__(self, *, booleans: bool = False, prefix: str = "", separator: str = "=", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", code_area())
        super().__init__(strip=False, **kwargs)
        self.booleans = booleans
        self.prefix = prefix
        self.separator = separator

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            lines = []
            for key, item in value.items():
                shown = ("true" if item else "false") if isinstance(item, bool) else item
                lines.append(f"{key.removeprefix(self.prefix) if self.prefix else key} {self.separator} {shown}")
            return "\n".join(lines)
        return value

    def to_python(self, value: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for number, raw in enumerate(str(value or "").splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            name, found, item = line.partition(self.separator)
            name = name.strip()
            if not name or (not found and not self.booleans):
                raise forms.ValidationError(f"Line {number}: write it as name {self.separator} value")
            if self.prefix and not name.startswith(self.prefix):
                name = self.prefix + name
            result[name] = parse_bool(item, f"Line {number}") if self.booleans else item.strip()
        return result


class ListField(forms.CharField):
    """A list typed one item a line (or comma-separated)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", code_area(rows=2))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:
        items = re.split(r"[\n,]", str(value or ""))
        return list(dict.fromkeys(item.strip() for item in items if item.strip()))


class TemplatesField(forms.CharField):
    """Mapping templates by content type: sections headed `=== content/type ===` (none means application/json)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", code_area(rows=6))
        kwargs.setdefault(
            "help_text",
            "One template per content type, each under a line like <code>=== application/json ===</code>; "
            "text without such a line is the application/json template.",
        )
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        if list(value) == [DEFAULT_CONTENT_TYPE] and value[DEFAULT_CONTENT_TYPE]:
            return value[DEFAULT_CONTENT_TYPE]
        return "\n".join(f"=== {content_type} ===\n{text}" for content_type, text in value.items())

    def to_python(self, value: Any) -> dict[str, str]:
        sections: dict[str, list[str]] = {}
        current: str | None = None
        preamble: list[str] = []
        for line in str(value or "").replace("\r\n", "\n").split("\n"):
            header = TEMPLATE_HEADER.match(line.strip())
            if header:
                current = header["type"]
                sections[current] = []
            elif current is None:
                preamble.append(line)
            else:
                sections[current].append(line)
        if "\n".join(preamble).strip():
            if DEFAULT_CONTENT_TYPE in sections:
                raise forms.ValidationError("Text before the first === content/type === line is ambiguous")
            sections = {DEFAULT_CONTENT_TYPE: preamble, **sections}
        return {content_type: "\n".join(lines).strip("\n") for content_type, lines in sections.items()}


def pointer(segment: str) -> str:
    """Escape one JSON Pointer segment, as patch paths need for names holding '/'."""
    return segment.replace("~", "~0").replace("/", "~1")


def map_ops(path: str, old: Mapping[str, Any], new: Mapping[str, Any], render=str) -> list[PatchOp]:
    """Return the patch operations that turn map `old` into map `new` under `path`."""
    ops = [PatchOp(op="remove", path=f"{path}/{pointer(k)}") for k in old if k not in new]
    for key, value in new.items():
        if key not in old or old[key] != value:
            op = "replace" if key in old else "add"
            ops.append(PatchOp(op=op, path=f"{path}/{pointer(key)}", value=render(value)))
    return ops


def bool_text(value: bool) -> str:
    return "true" if value else "false"
