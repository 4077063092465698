"""`manage.py bootstrap`: prepare the local state, migrate, load the demo and print how to log in.

`make run` calls it before it starts the processes; running it again reuses what exists. The admin's
password is generated once and kept in `VAR_DIR/admin.json` (mode 0600) so later runs print the same one.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from apis.demo import demo_load, demo_summary
from apis.secrets import decrypt
from apis.services.access import access_key_create

ADMIN_FILE = "admin.json"
ACCESS_KEY_DESCRIPTION = "Created by manage.py bootstrap"
BROKER_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def url_host(host: str) -> str:
    """Return the host to put in a URL for a server bound to `host`."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def prepare_folders() -> None:
    """Create the folders the embedded mode writes to: var/, the SQLite file's folder, the broker's."""
    folders = [Path(settings.VAR_DIR), Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent]
    database = settings.DATABASES["default"]
    name = str(database["NAME"])
    if database["ENGINE"] == "django.db.backends.sqlite3" and name != ":memory:" and not name.startswith("file:"):
        folders.append(Path(name).parent)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders += [Path(str(options[name])) for name in BROKER_FOLDER_OPTIONS if options.get(name)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON file that only its owner may read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def ensure_admin(username: str) -> tuple[Any, str | None]:
    """Return the superuser, creating it with a random password; the password when it is still known."""
    path = Path(settings.VAR_DIR) / ADMIN_FILE
    saved: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    saved_password = saved.get("password") if saved.get("username") == username else None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        password = saved_password or secrets.token_urlsafe(18)
        user = get_user_model().objects.create_superuser(
            username=username, email=f"{username}@localhost", password=password
        )
        write_private_json(path, {"username": username, "password": password})
        return user, password
    if saved_password and user.check_password(saved_password):
        return user, saved_password
    return user, None


def ensure_access_key(user: Any) -> tuple[str, str]:
    """Return the user's bootstrap access key and secret, issuing one when none can be read."""
    for key in user.access_keys.filter(description=ACCESS_KEY_DESCRIPTION).order_by("created_date"):
        try:
            return key.access_key_id, decrypt(key.secret_encrypted)
        except ValueError:
            continue  # stored under another SECRET_KEY; issue a fresh one below
    key, secret = access_key_create(user=user, description=ACCESS_KEY_DESCRIPTION)
    return key.access_key_id, secret


class Command(BaseCommand):
    help = "Migrate, load the demo, ensure the admin account and its access key, and print them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address the web and gateway processes bind")
        parser.add_argument("--username", default="admin", help="name of the superuser to ensure")
        parser.add_argument("--no-admin", action="store_true", help="do not create the admin or its access key")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo API")

    def handle(self, *args: Any, **options: Any) -> None:
        prepare_folders()
        call_command("migrate", interactive=False, verbosity=max(options["verbosity"] - 1, 0))
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if options["no_admin"] and options["no_demo"]:
            return

        host = url_host(options["host"])
        web = f"http://{host}:{settings.WEB_PORT}"
        lines = [
            "",
            "Portico",
            f"  web         {web}/  (health: {web}/health)",
            f"  gateway     http://{host}:{settings.GATEWAY_PORT}/",
        ]
        owner = None
        if not options["no_admin"]:
            owner, password = ensure_admin(options["username"])
            access_key_id, secret = ensure_access_key(owner)
            shown = password or (
                f"(unknown: {ADMIN_FILE} is missing or stale; set one with `manage.py changepassword {owner.username}`)"
            )
            lines += [
                f"  console     {web}/console/  (Django admin: {web}/admin/)",
                f"    username  {owner.username}",
                f"    password  {shown}",
                f"  management API  endpoint_url={web}/aws  (any region)",
                f"    aws_access_key_id      {access_key_id}",
                f"    aws_secret_access_key  {secret}",
            ]
        if not options["no_demo"]:
            lines += ["", *demo_summary(demo_load(owner=owner))]
        self.stdout.write("\n".join([*lines, ""]))
