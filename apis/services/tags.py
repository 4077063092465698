"""Writes of resource tags, addressed by ARN as TagResource and UntagResource do."""

from __future__ import annotations

import re

from django.db import transaction

from apis import models as m
from apis.errors import BadRequest

TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")
MAX_TAGS = 50


def _check(tags: dict[str, str]) -> None:
    if not isinstance(tags, dict):
        raise BadRequest("tags must be a map of strings")
    for key, value in tags.items():
        if not isinstance(key, str) or not TAG_KEY.match(key) or key.lower().startswith("aws:"):
            raise BadRequest(f"Invalid tag key: {key}")
        if not isinstance(value, str) or len(value) > 256:
            raise BadRequest(f"Invalid tag value for key {key}")


@transaction.atomic
def tags_add(*, resource_arn: str, tags: dict[str, str]) -> None:
    """Add or overwrite tags on a resource."""
    _check(tags)
    existing = set(m.Tag.objects.filter(resource_arn=resource_arn).values_list("key", flat=True))
    if len(existing | set(tags)) > MAX_TAGS:
        raise BadRequest(f"A resource can have at most {MAX_TAGS} tags")
    for key, value in tags.items():
        m.Tag.objects.update_or_create(resource_arn=resource_arn, key=key, defaults={"value": value})


@transaction.atomic
def tags_replace(*, resource_arn: str, tags: dict[str, str]) -> None:
    """Set a resource's tags to exactly these."""
    m.Tag.objects.filter(resource_arn=resource_arn).delete()
    tags_add(resource_arn=resource_arn, tags=tags)


@transaction.atomic
def tags_remove(*, resource_arn: str, keys: list[str]) -> None:
    """Remove tags by key; unknown keys are ignored, as AWS does."""
    m.Tag.objects.filter(resource_arn=resource_arn, key__in=keys).delete()


def tags_delete_all(*, resource_arn: str) -> None:
    """Forget every tag of a deleted resource."""
    m.Tag.objects.filter(resource_arn=resource_arn).delete()
