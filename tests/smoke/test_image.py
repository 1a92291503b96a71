"""The image itself: published as `invoke push` and `invoke bump` promise, non-root,
read-only root file system, honest and clean labels and history."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from harness import DATA_MOUNT, REPO_ROOT, BuiltImage, SmokeServer

from tooling.gitinfo import git_tags
from tooling.imagename import parse_image_name
from tooling.keycloak import BOOTSTRAP_PASSWORD
from tooling.registry import RegistryClient
from tooling.tags import parse_tag, parse_tags

REQUIRED_LABELS = [
    "created",
    "revision",
    "version",
    "source",
    "title",
    "description",
    "licenses",
    "base.name",
]
# Words that would betray a secret baked into metadata.
SECRET_PATTERN = re.compile(
    r"passw(or)?d|secret|token|api[_-]?key|private key|BEGIN [A-Z ]*KEY", re.IGNORECASE
)


def build_machine_paths() -> list[str]:
    """Paths of this machine that must never appear in the image's metadata."""
    paths = {str(REPO_ROOT), str(Path.home()) + "/", tempfile.gettempdir() + "/"}
    return sorted(p for p in paths if p not in ("/", "//"))


def image_config(reference: str) -> dict[str, object]:
    out = subprocess.run(
        ["docker", "image", "inspect", reference], capture_output=True, text=True, check=True
    ).stdout
    config: dict[str, object] = json.loads(out)[0]["Config"]
    return config


def labels_of(reference: str) -> dict[str, str]:
    labels = image_config(reference).get("Labels") or {}
    assert isinstance(labels, dict)
    return {str(k): str(v) for k, v in labels.items()}


@pytest.mark.matrix("Publish (invoke push, invoke bump)")
def test_push_wrote_both_tags_and_bump_proposes_the_next_revision(image: BuiltImage) -> None:
    name = parse_image_name(image.name)
    client = RegistryClient(name)
    assert sorted(client.list_tags()) == sorted(["latest", image.tag])
    assert client.manifest_digest("latest") == client.manifest_digest(image.tag)
    assert image.reference == f"{image.name}@{client.manifest_digest(image.tag)}"

    built = parse_tag(image.tag)
    taken = [built.revision] + [
        t.revision for t in parse_tags(git_tags(REPO_ROOT)) if t.base == built.base
    ]
    assert f"next tag:      {built.base}-{max(taken) + 1}" in image.bump_output, image.bump_output


@pytest.mark.matrix("Image: non-root")
def test_server_runs_as_uid_1000(server: SmokeServer) -> None:
    pid = server.inspect()["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.MULTILINE)
    assert uids is not None, status
    assert uids.groups() == ("1000", "1000"), f"server process real/effective uid: {uids.groups()}"
    assert image_config(server.image).get("User") in ("1000", "1000:1000", "temporal")


@pytest.mark.matrix("Image: read-only root fs")
def test_serves_with_a_read_only_root_and_keeps_state_on_the_volume(server: SmokeServer) -> None:
    assert server.inspect()["HostConfig"]["ReadonlyRootfs"] is True
    probe = server.exec("sh", "-c", "echo x > /etc/temporal/probe")
    assert probe.returncode != 0 and "Read-only file system" in probe.stderr, probe
    written = sorted(p.name for p in server.data_dir.iterdir())
    assert "temporal.db" in written, f"{DATA_MOUNT} holds {written}"


@pytest.mark.matrix("Image: labels and history")
def test_labels_are_complete_and_free_of_secrets_and_paths(image: BuiltImage) -> None:
    labels = labels_of(image.reference)
    oci = {k.removeprefix("org.opencontainers.image."): v for k, v in labels.items()}
    missing = [k for k in REQUIRED_LABELS if not oci.get(k)]
    assert not missing, f"missing or empty OCI labels: {missing} in {labels}"
    assert oci["version"] == image.tag
    datetime.fromisoformat(oci["created"].replace("Z", "+00:00"))  # RFC 3339
    for key, value in labels.items():
        assert not SECRET_PATTERN.search(value), f"label {key}={value!r} looks like a secret"
        assert BOOTSTRAP_PASSWORD not in value
        for path in build_machine_paths():
            assert path not in value, f"label {key}={value!r} names build-machine path {path}"


@pytest.mark.matrix("Image: labels and history")
def test_history_and_env_are_free_of_secrets_and_paths(image: BuiltImage) -> None:
    history = subprocess.run(
        ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image.reference],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    env = [str(e) for e in (image_config(image.reference).get("Env") or [])]  # type: ignore[attr-defined]
    for line in history + env:
        assert not SECRET_PATTERN.search(line), f"looks like a secret: {line!r}"
        for path in build_machine_paths():
            assert path not in line, f"names build-machine path {path}: {line!r}"


@pytest.mark.matrix("Image: SOURCE_COMMIT")
def test_revision_label_is_the_commit_built_marked_dirty_when_the_tree_was(
    image: BuiltImage,
) -> None:
    revision = labels_of(image.reference)["org.opencontainers.image.revision"]
    assert revision == image.expected_revision, (
        f"revision label {revision!r}, but the tree at build time was {image.expected_revision!r}"
    )
