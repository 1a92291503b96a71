"""Build a tiny image with tooling.build, publish it with `invoke push` to a real registry,
then let `invoke bump` read the registry's tags."""

from __future__ import annotations

from pathlib import Path

from cli import REPO_ROOT, invoke
from python_on_whales import DockerClient

from tooling.build import BuildOptions, plan_build, run_build
from tooling.gitinfo import build_date
from tooling.imagename import parse_image_name
from tooling.localregistry import LocalRegistry
from tooling.registry import RegistryClient
from tooling.tags import parse_tag
from tooling.versions import load_versions

# Same ARG and LABEL contract as the real Containerfile, without the Go build, so the
# test needs nothing but a 2 MB base image.
TINY_CONTAINERFILE = """\
ARG TEMPORAL_IMAGE
FROM ${TEMPORAL_IMAGE}
ARG TEMPORAL_IMAGE
ARG IMAGE_VERSION
ARG SOURCE_COMMIT
ARG BUILD_DATE
RUN echo "$IMAGE_VERSION" > /etc/image-version
LABEL org.opencontainers.image.created="${BUILD_DATE}" \\
      org.opencontainers.image.revision="${SOURCE_COMMIT}" \\
      org.opencontainers.image.version="${IMAGE_VERSION}" \\
      org.opencontainers.image.base.name="${TEMPORAL_IMAGE}"
"""


def test_build_push_bump(
    docker: DockerClient,
    base_image: str,
    registry: LocalRegistry,
    tmp_path: Path,
    cleanup_images: list[str],
) -> None:
    (tmp_path / "Containerfile").write_text(TINY_CONTAINERFILE)
    versions = load_versions(REPO_ROOT, env={})
    tag = parse_tag(versions.file_tag)
    image = parse_image_name(f"{registry.host}/hardened-temporal/temporal-server")
    plan = plan_build(
        root=tmp_path,
        versions=versions,
        image=image,
        tag=tag,
        commit="0" * 40,
        date=build_date(),
        options=BuildOptions(temporal_image=base_image, builder_image=base_image),
    )
    cleanup_images.extend(plan.tags)

    built = run_build(docker, plan)
    assert built.image_id and built.image_id.startswith("sha256:")
    assert sorted(built.tags) == sorted(plan.tags)
    assert built.labels["org.opencontainers.image.version"] == tag.text

    pushed = invoke("push", "--image", image.full, "--tag", tag.text, "--timeout", "120")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    summary = pushed.stdout.splitlines()
    for reference in (image.reference(tag.text), image.reference("latest")):
        row = next(line for line in summary if line.startswith(reference + " "))
        assert row.split()[1] == "pushed", pushed.stdout

    client = RegistryClient(image)
    assert sorted(client.list_tags()) == sorted(["latest", tag.text])
    local_digests = docker.image.inspect(image.reference(tag.text)).repo_digests
    assert f"{image.full}@{client.manifest_digest(tag.text)}" in local_digests
    assert client.manifest_digest("latest") == client.manifest_digest(tag.text)

    versions_before = (REPO_ROOT / "versions.toml").read_text()
    bumped = invoke("bump", "--dry-run", "--write", "--image", image.full)
    assert bumped.returncode == 0, bumped.stderr
    assert f"registry tags: {tag.text}" in bumped.stdout
    assert f"next tag:      {tag.base}-{tag.revision + 1}" in bumped.stdout
    assert (REPO_ROOT / "versions.toml").read_text() == versions_before

    status = invoke("status", "--image", image.full)
    assert status.returncode == 0, status.stderr
    assert f"registry tags:   {image.full}: {tag.text}" in status.stdout
