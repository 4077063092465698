"""Fixtures for the control plane: a live web server on a free port and boto3 clients signed for it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
import uvicorn
from botocore.config import Config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """Serve an ASGI app with uvicorn in a background thread of the test process."""

    def __init__(self, app: object, port: int) -> None:
        self.port = port
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def live_web() -> Iterator[ServerThread]:
    from config.asgi import application

    with ServerThread(application, free_port()) as server:
        yield server


@pytest.fixture
def owner(transactional_db: None):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("owner", "owner@example.com", "pw-owner-123", is_staff=True)


@pytest.fixture
def credentials(owner) -> dict[str, str]:
    from apis.services.access import access_key_create

    key, secret = access_key_create(user=owner)
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": secret}


def make_client(live_web: ServerThread, credentials: dict[str, str], region: str = "us-east-1"):
    return boto3.client(
        "apigateway",
        endpoint_url=f"{live_web.url}/aws",
        region_name=region,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        **credentials,
    )


@pytest.fixture
def apigw(live_web: ServerThread, credentials: dict[str, str]):
    return make_client(live_web, credentials)
