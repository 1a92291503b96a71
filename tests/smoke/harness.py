"""What the smoke checks use: the running container, tokens per test user, SDK clients and
the assertion that a call is denied."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from google.protobuf.duration_pb2 import Duration
from temporalio.api.errordetails.v1 import PermissionDeniedFailure
from temporalio.api.workflowservice.v1 import (
    GetSystemInfoRequest,
    ListWorkflowExecutionsRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tooling.keycloak import RunningKeycloak

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "temporal"  # tests/smoke/realm.json: the client whose roles are namespace:role
SHORT_LIVED_CLIENT_ID = "temporal-short-lived"  # same mappers, 5 s access tokens
CONFIG_MOUNT = "/etc/temporal/config"
DATA_MOUNT = "/var/lib/temporal"


@dataclass
class BuiltImage:
    name: str  # 127.0.0.1:<port>/hardened-temporal/temporal-server
    tag: str  # X.Y.Z-R
    reference: str  # name@sha256:... as pushed
    expected_revision: str  # git HEAD (+ "-dirty") when the build started
    bump_output: str
    cleanup: list[str] = field(default_factory=list)


class Tokens:
    """Access tokens from Keycloak's token endpoint; every test user's password is its name."""

    def __init__(self, keycloak: RunningKeycloak) -> None:
        self.keycloak = keycloak

    def of(self, user: str, *, realm: str = "temporal", client_id: str = CLIENT_ID) -> str:
        return self.keycloak.password_token(realm, client_id, user, user)


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: for tampering and for reading `exp`."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def with_claims(token: str, claims: dict[str, Any]) -> str:
    """`token` with its payload replaced and its original signature kept."""
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


@dataclass
class SmokeServer:
    """The image under test, run as the README says: host network, read-only root file
    system, config mounted read-only at TEMPORAL_CONFIG_DIR, SQLite on a data volume."""

    container: str
    image: str
    config_dir: Path
    data_dir: Path
    target: str  # host:port of the frontend
    started: bool = False

    def run(self) -> None:
        _docker(
            "run", "--detach", "--name", self.container,
            "--network", "host",
            "--read-only",
            "--volume", f"{self.config_dir}:{CONFIG_MOUNT}:ro",
            "--volume", f"{self.data_dir}:{DATA_MOUNT}",
            "--env", f"TEMPORAL_CONFIG_DIR={CONFIG_MOUNT}",
            "--env", "TEMPORAL_CONFIG_ENV=development",
            self.image,
        )  # fmt: skip
        self.started = True

    def restart(self) -> None:
        _docker("restart", "--time", "30", self.container)

    def inspect(self) -> dict[str, Any]:
        result: list[dict[str, Any]] = json.loads(_docker("inspect", self.container))
        return result[0]

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "exec", self.container, *command],
            capture_output=True,
            text=True,
            check=False,
        )

    def logs(self) -> str:
        result = subprocess.run(
            ["docker", "logs", self.container], capture_output=True, text=True, check=False
        )
        return result.stdout + result.stderr

    def remove(self) -> None:
        if self.started:
            subprocess.run(
                ["docker", "rm", "--force", self.container], capture_output=True, check=False
            )
            self.started = False

    async def connect(self, token: str | None = None, namespace: str = "default") -> Client:
        metadata = {"authorization": f"Bearer {token}"} if token else {}
        return await Client.connect(self.target, namespace=namespace, rpc_metadata=metadata)

    async def wait_until_serving(self, timeout: float) -> None:
        """Until the frontend answers GetSystemInfo (always allowed, no token)."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            state = self.inspect()["State"]
            if not state["Running"]:
                raise AssertionError(
                    f"container {self.container} exited ({state.get('ExitCode')}):\n"
                    + self.logs()[-4000:]
                )
            try:
                client = await self.connect()
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return
            except (RuntimeError, RPCError) as err:
                last = err
            await asyncio.sleep(1)
        raise AssertionError(
            f"frontend {self.target} did not answer within {timeout:.0f} s ({last}):\n"
            + self.logs()[-4000:]
        )


def _docker(*args: str) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


async def expect_denied(call: Any, *, what: str) -> RPCError:
    """Await `call` and check that the server said PermissionDenied, not anything else."""
    try:
        await call
    except RPCError as err:
        assert err.status == RPCStatusCode.PERMISSION_DENIED, (
            f"{what}: expected PERMISSION_DENIED, got {err.status.name}: {err.message}"
        )
        return err
    raise AssertionError(f"{what}: the server allowed it")


def denial_reason(err: RPCError) -> str:
    """The authorizer's reason: Temporal keeps the message "Request unauthorized." and
    sends the reason in the PermissionDeniedFailure detail of the gRPC status."""
    for detail in err.grpc_status.details:
        failure = PermissionDeniedFailure()
        if detail.Unpack(failure):
            return failure.reason
    return ""


async def eventually(check: Any, *, timeout: float, what: str, interval: float = 1.0) -> Any:
    """Retry the coroutine function `check` until it returns without raising."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except (AssertionError, RPCError, RuntimeError) as err:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still failing after {timeout:.0f} s: {err}") from err
        await asyncio.sleep(interval)


async def register_namespace(server: SmokeServer, tokens: Tokens, name: str) -> None:
    """Register `name` as the system admin (sysadmin), then wait until a call in it works.

    Retried while the server warms up (history shards, signing keys from Keycloak)."""

    async def register() -> None:
        client = await server.connect(tokens.of("sysadmin"))
        try:
            await client.workflow_service.register_namespace(
                RegisterNamespaceRequest(
                    namespace=name,
                    description=f"registered by the smoke run for {name}",
                    workflow_execution_retention_period=Duration(
                        seconds=int(timedelta(days=1).total_seconds())
                    ),
                )
            )
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise

    await eventually(register, timeout=120, what=f"RegisterNamespace {name} as sysadmin")

    async def usable() -> None:
        client = await server.connect(tokens.of("sysadmin"), namespace=name)
        await client.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(namespace=name)
        )

    await eventually(usable, timeout=60, what=f"ListWorkflowExecutions in new namespace {name}")
