"""`manage.py load_demo`: create the PetStore demo API, its stage, usage plan and key (idempotent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apis.demo import demo_load, demo_summary


class Command(BaseCommand):
    help = "Create the PetStore demo API, deployed to prod with a usage plan and an API key; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", metavar="USERNAME", help="user who owns the demo API, plan and key")

    def handle(self, *args: Any, owner: str | None = None, **options: Any) -> None:
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"User {owner!r} does not exist")
        demo = demo_load(owner=user)
        self.stdout.write("\n".join(demo_summary(demo)))
