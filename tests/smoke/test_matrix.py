"""The smoke matrix: what each kind of caller may do on the running image, checked with the
Temporal Python SDK and tokens from Keycloak's token endpoint.

Who is who (tests/smoke/realm.json, client "temporal"):
    reader    default:read          writer    default:write        worker   default:worker
    nsadmin   default:admin         sysadmin  temporal-system:admin
    ops       no client role; member of group /temporal-ops, which authorization.yaml maps
              to read in every namespace
Rules (tests/smoke/server-config/authorization.yaml): writers may not terminate in default.

The restart check runs last: it restarts the container the other checks share.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from harness import (
    SHORT_LIVED_CLIENT_ID,
    SmokeServer,
    Tokens,
    claims_of,
    denial_reason,
    eventually,
    expect_denied,
    register_namespace,
    with_claims,
)
from smoke_workflows import SmokeGreeting
from temporalio.api.enums.v1 import EventType
from temporalio.api.namespace.v1 import UpdateNamespaceInfo
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetSystemInfoRequest,
    ListNamespacesRequest,
    ListWorkflowExecutionsRequest,
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

# Nobody polls this queue: workflows started on it stay running, to be signalled or terminated.
IDLE_QUEUE = "smoke-nobody-polls"
LEEWAY_SECONDS = 1  # tokens.leeway in authorization.yaml

T = TypeVar("T")


def run(check: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(check())  # type: ignore[arg-type]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def start_idle(client: Client, workflow_id: str) -> WorkflowHandle[Any, Any]:
    """A SmokeGreeting that waits for its "finish" signal, on a queue nobody polls."""
    return await client.start_workflow(
        "SmokeGreeting", args=["idle", True], id=workflow_id, task_queue=IDLE_QUEUE
    )


async def list_in(server: SmokeServer, token: str | None, namespace: str) -> None:
    """ListWorkflowExecutions with `token` on this call only: the connection itself is made
    without one (GetSystemInfo is always allowed), so a bad token fails this call, not connect."""
    client = await server.connect(None, namespace=namespace)
    metadata = {"authorization": f"Bearer {token}"} if token else {}
    await client.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(namespace=namespace), metadata=metadata
    )


async def visible_namespaces(server: SmokeServer, token: str) -> set[str]:
    client = await server.connect(token)
    response = await client.workflow_service.list_namespaces(ListNamespacesRequest(page_size=1000))
    return {ns.namespace_info.name for ns in response.namespaces}


async def run_to_completion(
    server: SmokeServer, tokens: Tokens, workflow_id: str, name: str
) -> tuple[str, Client]:
    """A writer starts SmokeGreeting; a real worker holding only default:worker completes it."""
    worker_client = await server.connect(tokens.of("worker"))
    writer = await server.connect(tokens.of("writer"))
    queue = unique("smoke-worker")
    async with Worker(
        worker_client,
        task_queue=queue,
        workflows=[SmokeGreeting],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await asyncio.wait_for(
            writer.execute_workflow(
                "SmokeGreeting",
                args=[name, False],
                id=workflow_id,
                task_queue=queue,
                execution_timeout=timedelta(seconds=90),
                result_type=str,
            ),
            timeout=120,
        )
    return result, worker_client


@pytest.fixture(scope="module")
def new_namespace(server: SmokeServer, tokens: Tokens) -> str:
    """A namespace registered by the system admin (sysadmin) during the run."""
    name = unique("smoke-team")
    run(lambda: register_namespace(server, tokens, name))
    return name


# --- rows --------------------------------------------------------------------------------


@pytest.mark.matrix("No token")
def test_no_token_connects_but_cannot_list_workflows(server: SmokeServer) -> None:
    async def check() -> None:
        client = await server.connect(None)
        info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        assert info.server_version, "GetSystemInfo answered without a server version"
        await expect_denied(
            list_in(server, None, "default"), what="ListWorkflowExecutions without a token"
        )

    run(check)


@pytest.mark.matrix("Reader")
def test_reader_lists_and_describes_but_cannot_start(server: SmokeServer, tokens: Tokens) -> None:
    async def check() -> None:
        writer = await server.connect(tokens.of("writer"))
        workflow_id = unique("smoke-read")
        await start_idle(writer, workflow_id)
        reader = await server.connect(tokens.of("reader"))

        description = await reader.get_workflow_handle(workflow_id).describe()
        assert description.id == workflow_id
        assert description.status == WorkflowExecutionStatus.RUNNING

        async def listed() -> None:
            ids = [w.id async for w in reader.list_workflows(f'WorkflowId = "{workflow_id}"')]
            assert ids == [workflow_id], f"reader's list shows {ids}"

        await eventually(listed, timeout=30, what="reader lists the writer's workflow")
        denied = await expect_denied(
            start_idle(reader, unique("smoke-read-start")), what="StartWorkflowExecution as reader"
        )
        # The reason names the subject, the API, the namespace and the missing grant.
        reason = denial_reason(denied)
        subject = claims_of(tokens.of("reader"))["sub"]
        for part in (subject, "StartWorkflowExecution", '"default"', "requires write"):
            assert part in reason, f"{part!r} not in {reason!r}"
        await expect_denied(
            reader.get_workflow_handle(workflow_id).signal("finish"),
            what="SignalWorkflowExecution as reader",
        )

    run(check)


@pytest.mark.matrix("Writer")
def test_writer_starts_and_signals(server: SmokeServer, tokens: Tokens) -> None:
    async def check() -> None:
        writer = await server.connect(tokens.of("writer"))
        handle = await start_idle(writer, unique("smoke-write"))
        await handle.signal("finish")
        events = [event.event_type async for event in handle.fetch_history_events()]
        assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED in events
        assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED in events, events

    run(check)


@pytest.mark.matrix("Worker")
def test_worker_completes_a_writers_workflow_but_cannot_start_one(
    server: SmokeServer, tokens: Tokens
) -> None:
    async def check() -> None:
        result, worker_client = await run_to_completion(
            server, tokens, unique("smoke-worker-wf"), "worker"
        )
        assert result == "hello worker"
        await expect_denied(
            start_idle(worker_client, unique("smoke-worker-start")),
            what="StartWorkflowExecution as worker",
        )

    run(check)


@pytest.mark.matrix("Namespace admin")
def test_namespace_admin_updates_the_namespace(server: SmokeServer, tokens: Tokens) -> None:
    description = unique("updated by nsadmin")

    def update(namespace: str) -> UpdateNamespaceRequest:
        return UpdateNamespaceRequest(
            namespace=namespace, update_info=UpdateNamespaceInfo(description=description)
        )

    async def check() -> None:
        writer = await server.connect(tokens.of("writer"))
        await expect_denied(
            writer.workflow_service.update_namespace(update("default")),
            what="UpdateNamespace as writer",
        )
        nsadmin = await server.connect(tokens.of("nsadmin"))
        await nsadmin.workflow_service.update_namespace(update("default"))
        described = await nsadmin.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace="default")
        )
        assert described.namespace_info.description == description

    run(check)


@pytest.mark.matrix("System admin")
def test_system_admin_registered_a_namespace_that_a_namespace_admin_cannot(
    server: SmokeServer, tokens: Tokens, new_namespace: str
) -> None:
    async def check() -> None:
        sysadmin = await server.connect(tokens.of("sysadmin"), namespace=new_namespace)
        described = await sysadmin.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=new_namespace)
        )
        assert described.namespace_info.name == new_namespace
        nsadmin = await server.connect(tokens.of("nsadmin"))
        await expect_denied(
            nsadmin.workflow_service.register_namespace(
                RegisterNamespaceRequest(namespace=unique("smoke-by-nsadmin"))
            ),
            what="RegisterNamespace as default:admin",
        )

    run(check)


@pytest.mark.matrix("Namespace isolation")
def test_default_users_are_denied_in_the_new_namespace(
    server: SmokeServer, tokens: Tokens, new_namespace: str
) -> None:
    async def check() -> None:
        for user in ("reader", "writer", "nsadmin"):
            await expect_denied(
                list_in(server, tokens.of(user), new_namespace),
                what=f"ListWorkflowExecutions in {new_namespace} as {user}",
            )
        writer = await server.connect(tokens.of("writer"), namespace=new_namespace)
        await expect_denied(
            start_idle(writer, unique("smoke-isolated")),
            what=f"StartWorkflowExecution in {new_namespace} as writer",
        )

    run(check)


@pytest.mark.matrix("Namespace isolation")
def test_list_namespaces_shows_each_user_only_their_namespaces(
    server: SmokeServer, tokens: Tokens, new_namespace: str
) -> None:
    async def check() -> None:
        for user in ("reader", "writer", "worker", "nsadmin"):
            seen = await visible_namespaces(server, tokens.of(user))
            assert seen == {"default"}, f"{user} (default only) sees {sorted(seen)}"
        seen = await visible_namespaces(server, tokens.of("sysadmin"))
        assert {"default", new_namespace} <= seen, f"sysadmin sees {sorted(seen)}"

    run(check)


@pytest.mark.matrix("Group-mapped user")
def test_group_member_reads_every_namespace_through_the_mapping(
    server: SmokeServer, tokens: Tokens, new_namespace: str
) -> None:
    token = tokens.of("ops")
    claims = claims_of(token)
    assert not claims.get("permissions"), f"ops must get nothing from roles: {claims}"
    assert claims.get("groups") == ["/temporal-ops"], claims

    async def check() -> None:
        await list_in(server, token, "default")
        await list_in(server, token, new_namespace)
        assert {"default", new_namespace} <= await visible_namespaces(server, token)
        ops = await server.connect(token)
        await expect_denied(
            start_idle(ops, unique("smoke-ops-start")), what="StartWorkflowExecution as ops"
        )

    run(check)


@pytest.mark.matrix("Operation rule")
def test_rule_denies_writer_terminate_but_allows_signal(
    server: SmokeServer, tokens: Tokens
) -> None:
    async def check() -> None:
        writer = await server.connect(tokens.of("writer"))
        handle = await start_idle(writer, unique("smoke-rule"))
        await handle.signal("finish")
        denied = await expect_denied(
            handle.terminate(reason="smoke"), what="TerminateWorkflowExecution as writer"
        )
        reason = denial_reason(denied)
        assert "writers-may-not-terminate-in-default" in reason, reason
        assert "TerminateWorkflowExecution" in reason, reason
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        # The method itself works: the namespace admin is not bound by the rule.
        nsadmin = await server.connect(tokens.of("nsadmin"))
        await nsadmin.get_workflow_handle(handle.id).terminate(reason="smoke")
        assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED

    run(check)


@pytest.mark.matrix("Internal traffic")
def test_schedule_created_by_writer_fires(server: SmokeServer, tokens: Tokens) -> None:
    async def check() -> None:
        writer = await server.connect(tokens.of("writer"))
        schedule_id = unique("smoke-schedule")
        handle = await writer.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    "SmokeGreeting", args=["schedule", False], id=schedule_id, task_queue=IDLE_QUEUE
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=2))]),
            ),
        )
        try:

            async def fired() -> str:
                info = (await handle.describe()).info
                assert info.num_actions >= 1 and info.recent_actions, "no action yet"
                action = info.recent_actions[0].action
                return str(action.workflow_id)  # type: ignore[attr-defined]

            started_id = await eventually(fired, timeout=90, what="schedule started a workflow")
            started = await writer.get_workflow_handle(started_id).describe()
            assert started.workflow_type == "SmokeGreeting"
        finally:
            await handle.delete()

    run(check)


@pytest.mark.matrix("Bad tokens")
def test_expired_token_is_denied(server: SmokeServer, tokens: Tokens) -> None:
    token = tokens.of("writer", client_id=SHORT_LIVED_CLIENT_ID)
    run(lambda: list_in(server, token, "default"))  # valid while it lasts
    expiry = claims_of(token)["exp"]
    time.sleep(max(0.0, expiry + LEEWAY_SECONDS + 1 - time.time()))
    run(lambda: expect_denied(list_in(server, token, "default"), what="an expired token"))


@pytest.mark.matrix("Bad tokens")
def test_token_from_another_realm_is_denied(server: SmokeServer, tokens: Tokens) -> None:
    token = tokens.of("writer", realm="other")
    assert claims_of(token)["permissions"] == ["default:write"], "same claims, other issuer"
    run(lambda: expect_denied(list_in(server, token, "default"), what="a token of realm other"))


@pytest.mark.matrix("Bad tokens")
def test_tampered_token_is_denied(server: SmokeServer, tokens: Tokens) -> None:
    token = tokens.of("reader")
    run(lambda: list_in(server, token, "default"))  # the untouched token works
    claims = claims_of(token)
    claims["permissions"] = ["temporal-system:admin"]
    tampered = with_claims(token, claims)
    run(lambda: expect_denied(list_in(server, tampered, "default"), what="a tampered token"))


@pytest.mark.matrix("Restart")
def test_completed_workflow_survives_a_restart(server: SmokeServer, tokens: Tokens) -> None:
    workflow_id = unique("smoke-restart")

    async def before() -> None:
        result, _ = await run_to_completion(server, tokens, workflow_id, "restart")
        assert result == "hello restart"

    run(before)
    server.restart()
    run(lambda: server.wait_until_serving(timeout=240))

    async def after() -> None:
        reader = await server.connect(tokens.of("reader"))
        handle = reader.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert await handle.result() == "hello restart"

    run(lambda: eventually(after, timeout=60, what="completed workflow after restart"))
