"""Fixtures for tests against the real Docker engine (with buildx) and a real registry.

These tests fail, never skip, when the engine is missing: run scripts/setup-host.sh (or
./dev test) first.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from tooling.engine import check_buildx, check_engine
from tooling.localregistry import LocalRegistry

BUSYBOX = Path("/bin/busybox")
# A 2 MB base image made here (no registry can be pulled from on this machine).
BASE_IMAGE = "localhost/hardened-temporal-test/busybox:1"


@pytest.fixture(scope="session")
def docker() -> DockerClient:
    client = DockerClient()
    check_engine(client)
    check_buildx(client)
    return client


def _is_static(path: Path) -> bool:
    out = subprocess.run(["file", "-L", str(path)], capture_output=True, text=True, check=False)
    return "statically linked" in out.stdout or "static-pie" in out.stdout


@pytest.fixture(scope="session")
def base_image(docker: DockerClient) -> str:
    """busybox-static imported as an image: /bin/sh and friends, nothing else."""
    if docker.image.exists(BASE_IMAGE):
        return BASE_IMAGE
    if not BUSYBOX.exists():
        pytest.fail(f"{BUSYBOX} missing: apt-get install busybox-static (scripts/setup-host.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        with tarfile.open(tarball, "w") as tar:
            tar.add(BUSYBOX, arcname="bin/busybox")
            for applet in ("sh", "cat", "echo", "ls", "true", "false", "test"):
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
            for directory in ("tmp", "etc"):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
                tar.addfile(info)
        docker.image.import_(tarball, tag=BASE_IMAGE)
    return BASE_IMAGE


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as running:
        yield running


@pytest.fixture
def cleanup_images(docker: DockerClient) -> Iterator[list[str]]:
    """Append image references to the yielded list; they are removed after the test."""
    created: list[str] = []
    yield created
    for reference in created:
        if docker.image.exists(reference):
            docker.image.remove(reference, force=True)
