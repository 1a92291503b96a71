"""Checks that the Docker engine, buildx and a built image are there, with messages that say
what to do when they are not."""

from __future__ import annotations

import os

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException, NoSuchImage

from tooling.errors import ToolError

SETUP_HINT = "run scripts/setup-host.sh (or ./dev), which installs and starts what is missing"


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def check_engine(docker: DockerClient) -> None:
    """Raise a ToolError unless a Docker engine answers."""
    try:
        docker.system.info()
    except FileNotFoundError:
        raise ToolError(f"the docker CLI is not installed: {SETUP_HINT}") from None
    except DockerException as err:
        raise ToolError(
            f"Docker engine not reachable at {engine_address()}: start it with "
            f"`dockerd --iptables=false --ip6tables=false &` as root, `systemctl start docker`, "
            f"or {SETUP_HINT} ({_first_line(err)})"
        ) from None


def check_buildx(docker: DockerClient) -> None:
    """Raise a ToolError unless the buildx CLI plugin works."""
    try:
        docker.buildx.version()
    except (DockerException, FileNotFoundError):
        raise ToolError(
            "docker buildx is missing: install the buildx CLI plugin into "
            "/usr/libexec/docker/cli-plugins/docker-buildx (Debian trixie's docker-buildx "
            f"package, or https://github.com/docker/buildx/releases), or {SETUP_HINT}"
        ) from None


def check_image_built(docker: DockerClient, reference: str) -> None:
    """Raise a ToolError unless `reference` is in the engine's image store."""
    try:
        docker.image.inspect(reference)
    except NoSuchImage:
        raise ToolError(
            f"image {reference} has not been built yet: run `invoke build` first "
            "(or set TAG / --image to the image you built)"
        ) from None


def _first_line(err: DockerException) -> str:
    text = (err.stderr or str(err)).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no detail"
