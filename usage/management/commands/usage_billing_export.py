"""Write the billing export (per plan and key, over a period) as CSV to stdout or a file."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from usage.selectors import billing_csv


class Command(BaseCommand):
    help = "Export usage per usage plan and API key over a period (UTC days, inclusive) as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="first day, e.g. 2026-11-01")
        parser.add_argument("--end", required=True, help="last day, e.g. 2026-11-30")
        parser.add_argument("--plan", help="only this usage plan id")
        parser.add_argument("--key", help="only this API key id")
        parser.add_argument("--output", help="write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start, end = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
        except ValueError as exc:
            raise CommandError(f"Dates must look like 2026-11-01: {exc}") from None
        if end < start:
            raise CommandError("--end must not be before --start")
        text = billing_csv(start=start, end=end, plan_id=options["plan"], key_id=options["key"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
