"""`manage.py create_access_key USERNAME`: issue SigV4 credentials for the management API."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apis.errors import ApiError
from apis.services.access import access_key_create


class Command(BaseCommand):
    help = (
        "Issue a management access key for a user and print it as one JSON line "
        '{"accessKeyId": ..., "secretAccessKey": ...}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--access-key-id", help="register this access key id instead of generating one")
        parser.add_argument("--secret-access-key", help="register this secret (needs --access-key-id)")
        parser.add_argument("--description", default="", help="a note shown beside the key")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["secret_access_key"] and not options["access_key_id"]:
            raise CommandError("--secret-access-key needs --access-key-id")
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"User {options['username']!r} does not exist")
        try:
            key, secret = access_key_create(
                user=user,
                access_key_id=options["access_key_id"],
                secret_access_key=options["secret_access_key"],
                description=options["description"],
            )
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps({"accessKeyId": key.access_key_id, "secretAccessKey": secret}))
