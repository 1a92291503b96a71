"""What a user sees when something is wrong: one clear line, exit code 1, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.localregistry import free_loopback_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("TAG", "IMAGE", "DOCKER_HOST")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_clear_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_dry_run_prints_the_command() -> None:
    result = invoke("build", "--dry-run", "--image", "127.0.0.1:5000/ht/ts")
    assert result.returncode == 0, result.stderr
    command = result.stdout.strip().splitlines()[-1]
    assert command.startswith("docker buildx build --build-arg GO_VERSION=")
    assert "--tag 127.0.0.1:5000/ht/ts:latest" in command


def test_malformed_tag(tmp_path: Path) -> None:
    result = invoke("build", "--dry-run", env={"TAG": "1.31.2-r1"})
    assert_clear_error(result, "error: TAG='1.31.2-r1' is not a valid image tag: expected X.Y.Z-R")


def test_malformed_tag_flag() -> None:
    result = invoke("push", "--dry-run", "--tag", "latest")
    assert_clear_error(result, "error: --tag='latest' is not a valid image tag")


def test_no_engine(tmp_path: Path) -> None:
    dead = f"unix://{tmp_path}/docker.sock"
    result = invoke("build", env={"DOCKER_HOST": dead})
    assert_clear_error(result, f"error: Docker engine not reachable at {dead}: start it with")


def test_no_engine_on_push(tmp_path: Path) -> None:
    dead = f"unix://{tmp_path}/docker.sock"
    result = invoke("push", env={"DOCKER_HOST": dead})
    assert_clear_error(result, f"error: Docker engine not reachable at {dead}")


def test_registry_unreachable_on_bump() -> None:
    host = f"127.0.0.1:{free_loopback_port()}"
    result = invoke("bump", "--image", f"{host}/ht/ts")
    assert_clear_error(result, f"error: registry {host} not reachable at http://{host}")


@pytest.mark.parametrize("image", ["ghcr.io/Org/x", "ghcr.io/org/x:1.0"])
def test_bad_image_name(image: str) -> None:
    assert_clear_error(invoke("build", "--dry-run", "--image", image), f"--image={image!r}")
