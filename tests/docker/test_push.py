"""tooling.push against the real engine: real successes, real failures, real timeouts."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient

from tooling.localregistry import LocalRegistry, free_loopback_port
from tooling.push import Failure, PushSettings, push_reference


def settings(retries: int, timeout: float, sleeps: list[float]) -> PushSettings:
    return PushSettings(
        retries=retries, timeout=timeout, backoff_base=0.1, sleep=sleeps.append, log=print
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_push_succeeds_and_reports_the_digest(
    docker: DockerClient, base_image: str, registry: LocalRegistry, cleanup_images: list[str]
) -> None:
    reference = f"{registry.host}/ht/push-ok:1.31.2-1"
    docker.image.tag(base_image, reference)
    cleanup_images.append(reference)
    sleeps: list[float] = []
    result = push_reference(reference, settings(retries=2, timeout=120, sleeps=sleeps))
    assert result.pushed and result.attempts == 1 and sleeps == []
    assert result.digest is not None and result.digest.startswith("sha256:")
    assert (
        f"{registry.host}/ht/push-ok@{result.digest}"
        in docker.image.inspect(reference).repo_digests
    )


def test_connection_refused_is_retried_with_backoff(
    docker: DockerClient, base_image: str, cleanup_images: list[str]
) -> None:
    reference = f"127.0.0.1:{free_loopback_port()}/ht/closed:1.31.2-1"
    docker.image.tag(base_image, reference)
    cleanup_images.append(reference)
    sleeps: list[float] = []
    result = push_reference(reference, settings(retries=2, timeout=120, sleeps=sleeps))
    assert not result.pushed
    assert result.failure is Failure.TRANSIENT
    assert "connection refused" in (result.error or "")
    assert result.attempts == 3
    assert sleeps == [0.1, 0.2]


def test_auth_failure_is_not_retried(
    docker: DockerClient, base_image: str, cleanup_images: list[str]
) -> None:
    with LocalRegistry(refuse_everyone=True) as locked:
        reference = f"{locked.host}/ht/locked:1.31.2-1"
        docker.image.tag(base_image, reference)
        cleanup_images.append(reference)
        sleeps: list[float] = []
        result = push_reference(reference, settings(retries=3, timeout=120, sleeps=sleeps))
    assert not result.pushed
    assert result.failure is Failure.AUTH
    assert "no basic auth credentials" in (result.error or "")
    assert result.attempts == 1 and sleeps == []


def test_each_attempt_times_out(
    docker: DockerClient, base_image: str, silent_server: str, cleanup_images: list[str]
) -> None:
    reference = f"{silent_server}/ht/silent:1.31.2-1"
    docker.image.tag(base_image, reference)
    cleanup_images.append(reference)
    sleeps: list[float] = []
    result = push_reference(reference, settings(retries=1, timeout=3, sleeps=sleeps))
    assert not result.pushed
    assert result.failure is Failure.TRANSIENT
    assert result.error == "timed out after 3 s"
    assert result.attempts == 2 and sleeps == [0.1]
