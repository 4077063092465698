"""API keys end to end: revoked on every gateway process within 5 s, and never stored or logged in the clear.

The revocation test runs the real control plane (the management API on a live server, the test database)
and two gateway processes reading that database through DatabaseConfigSource, as production does.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.db import connection

from apis import models as m
from apis.secrets import api_key_digest, decrypt
from apis.services import keys
from apis.tests.keyed_api import KeyedApi, build_keyed_api
from gateway_runtime.tests.processes import GatewayProcess, gateway_env

REVOCATION_SECONDS = 5.0


def _database_url() -> str:
    """Return a URL of the test database (the one this test process writes) for other processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def keyed(owner) -> KeyedApi:  # type: ignore[no-untyped-def]
    return build_keyed_api(owner)


@pytest.fixture
def gateways(keyed: KeyedApi, tmp_path: Path) -> Iterator[list[GatewayProcess]]:
    """Two gateway processes on the test database, polling it at the production default (every second)."""
    env = gateway_env(
        pepper=settings.API_KEY_PEPPER,
        DATABASE_URL=_database_url(),
        GATEWAY_CONFIG_POLL_SECONDS="1.0",
    )
    started = [GatewayProcess(env, tmp_path / f"gateway-{index}.log") for index in range(2)]
    try:
        yield started
    finally:
        for gateway in started:
            gateway.stop()


def _status(gateway: GatewayProcess, keyed: KeyedApi) -> int:
    request = urllib.request.Request(
        f"{gateway.url}/prod/pets",
        headers={"Host": f"{keyed.api.id}.execute-api.localhost", "x-api-key": keyed.key_value},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _wait_until(gateways: list[GatewayProcess], keyed: KeyedApi, status: int, seconds: float) -> float:
    """Poll every gateway until all answer `status`; return how long that took."""
    started = time.monotonic()
    while True:
        if all(_status(gateway, keyed) == status for gateway in gateways):
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            logs = "\n".join(gateway.log()[-2000:] for gateway in gateways)
            pytest.fail(f"gateways did not all answer {status} within {seconds} s:\n{logs}")
        time.sleep(0.1)


@pytest.mark.load
def test_a_key_disabled_through_the_management_api_is_refused_by_both_gateways_within_5_s(
    keyed: KeyedApi, gateways: list[GatewayProcess], apigw
) -> None:  # type: ignore[no-untyped-def]
    _wait_until(gateways, keyed, 200, seconds=30)

    apigw.update_api_key(apiKey=keyed.key.id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    elapsed = _wait_until(gateways, keyed, 403, seconds=REVOCATION_SECONDS)

    assert elapsed <= REVOCATION_SECONDS
    # Enabled again, then unlinked from its plan: refused again, as fast; linked again, then deleted: too.
    apigw.update_api_key(apiKey=keyed.key.id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])
    _wait_until(gateways, keyed, 200, seconds=REVOCATION_SECONDS)
    apigw.delete_usage_plan_key(usagePlanId=keyed.plan.id, keyId=keyed.key.id)
    assert _wait_until(gateways, keyed, 403, seconds=REVOCATION_SECONDS) <= REVOCATION_SECONDS
    apigw.create_usage_plan_key(usagePlanId=keyed.plan.id, keyId=keyed.key.id, keyType="API_KEY")
    _wait_until(gateways, keyed, 200, seconds=REVOCATION_SECONDS)
    apigw.delete_api_key(apiKey=keyed.key.id)
    assert _wait_until(gateways, keyed, 403, seconds=REVOCATION_SECONDS) <= REVOCATION_SECONDS


def _database_text() -> str:
    """Return every row of every table as text: a dump of the database, searchable for secrets."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_plaintext_key_is_stored_or_logged_after_creating_100_keys(
    owner, apigw, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    plan = apigw.create_usage_plan(name="Plan")["id"]
    # Every way a key is made: generated or chosen, through the management API or its CSV import, or the
    # services the console and the portal call.
    values = [apigw.create_api_key(name=f"api-{index}", enabled=True)["value"] for index in range(3)]
    values.append(apigw.create_api_key(name="chosen", enabled=True, value="ChosenValue-0123456789-abcdef")["value"])
    rows = io.StringIO()
    csv.writer(rows).writerows(
        [["name", "key", "enabled", "usageplanIds"]]
        + [[f"imported-{index}", f"ImportedValue-{index}-0123456789abc", "true", plan] for index in range(2)]
    )
    apigw.import_api_keys(body=rows.getvalue().encode(), format="csv")
    values += [f"ImportedValue-{index}-0123456789abc" for index in range(2)]
    values += [keys.api_key_create(owner=owner, name=f"service-{index}", enabled=True)[1] for index in range(94)]
    # A refused duplicate makes the server log (a 409), and is refused without echoing the value.
    with pytest.raises(ClientError):
        apigw.create_api_key(name="again", value="ChosenValue-0123456789-abcdef")
    assert apigw.get_api_keys(limit=500)["items"]

    assert m.ApiKey.objects.count() == 100
    generated = values[:3] + values[6:]
    # 40 characters of 62: about 238 bits from the system's CSPRNG (at least 128 asked).
    assert all(len(value) == 40 and value.isalnum() and value.isascii() for value in generated)
    assert len(set(values)) == 100
    dump = _database_text()
    assert not [value for value in values if value in dump]
    if connection.vendor == "sqlite":
        # The file itself (and its write-ahead log) holds no value either.
        database = Path(connection.settings_dict["NAME"])
        raw = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
        assert not [value for value in values if value.encode() in raw]
    # Portico's own logs (the server side); the boto3 client in this test logs its own traffic at DEBUG.
    client = ("botocore", "boto3", "urllib3")
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith(client))
    assert logged
    assert not [value for value in values if value in logged]
    # What is stored instead: the peppered digest, and a ciphertext only includeValue reads.
    for key in m.ApiKey.objects.all():
        value = decrypt(key.value_encrypted)
        assert value in values
        assert key.value_digest == api_key_digest(value)
