"""Errors that need the engine to show: image not built, buildx missing, registry refusing,
and the Containerfile's own check of its build arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli import REPO_ROOT, assert_clear_error, invoke, plugin_dirs, unshare_available
from python_on_whales import DockerClient

from tooling.localregistry import LocalRegistry


def test_push_of_an_image_never_built(registry: LocalRegistry) -> None:
    image = f"{registry.host}/hardened-temporal/never-built"
    result = invoke("push", "--image", image, "--tag", "1.31.2-1")
    assert_clear_error(
        result, f"error: image {image}:1.31.2-1 has not been built yet: run `invoke build` first"
    )


def test_registry_refuses_the_push(
    docker: DockerClient, base_image: str, cleanup_images: list[str]
) -> None:
    with LocalRegistry(refuse_everyone=True) as locked:
        image = f"{locked.host}/hardened-temporal/refused"
        for tag in ("1.31.2-1", "latest"):
            docker.image.tag(base_image, f"{image}:{tag}")
            cleanup_images.append(f"{image}:{tag}")
        result = invoke("push", "--image", image, "--tag", "1.31.2-1", "--retries", "3")
    assert_clear_error(result, f"error: not pushed: {image}:1.31.2-1, {image}:latest")
    assert result.stdout.count("attempt 1 of 4") == 1  # auth failure: no second attempt
    assert "attempt 2 of 4" not in result.stdout
    assert "no basic auth credentials" in result.stdout
    assert "not tried: earlier failure" in result.stdout


def test_registry_refuses_the_tag_list() -> None:
    with LocalRegistry(refuse_everyone=True) as locked:
        result = invoke("bump", "--image", f"{locked.host}/hardened-temporal/refused")
    assert_clear_error(result, f"error: registry {locked.host} refused access (401")


def test_buildx_missing(tmp_path: Path) -> None:
    if not unshare_available():
        pytest.fail("this test needs unshare(1) (util-linux) to hide the buildx plugin")
    empty = tmp_path / "empty"
    empty.mkdir()
    # A private mount namespace in which every buildx plugin directory is empty.
    hide = " && ".join(f"mount --bind {empty} {d}" for d in plugin_dirs())
    command = f'{hide} && exec "$@"'
    result = invoke("build", prefix=["unshare", "--mount", "sh", "-c", command, "sh"])
    assert_clear_error(result, "error: docker buildx is missing: install the buildx CLI plugin")
    assert "scripts/setup-host.sh" in result.stderr


def test_containerfile_names_a_missing_build_argument(
    docker: DockerClient, base_image: str
) -> None:
    """The real Containerfile on the engine's BuildKit: parsed, and fails early and clearly."""
    args = {
        "GO_VERSION": "1.26.8",
        "TEMPORAL_VERSION": "1.31.2",
        "BUILDER_IMAGE": base_image,
        "TEMPORAL_IMAGE": base_image,
        "IMAGE_VERSION": "1.31.2-1",
        "BUILD_DATE": "2026-12-03T15:04:05Z",
        # SOURCE_COMMIT left out
    }
    command = ["docker", "buildx", "build", "--file", str(REPO_ROOT / "Containerfile")]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    result = subprocess.run(
        [*command, str(REPO_ROOT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "build argument SOURCE_COMMIT is required" in result.stderr, result.stderr
