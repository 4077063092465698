"""Render form widgets with Bootstrap's classes (allauth's `fields` element and the portal's forms)."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def bootstrap_widget(field: BoundField, extra: str = "") -> SafeString:
    """Return the field's widget with form-control, form-select or form-check-input, marked invalid on errors."""
    kind = field.widget_type
    css = "form-check-input" if kind in {"checkbox", "radio"} else "form-select" if "select" in kind else "form-control"
    if field.errors:
        css += " is-invalid"
    attrs = {"class": f"{css} {extra}".strip()}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)
