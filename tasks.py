"""Invoke tasks: build, push, bump and inspect the hardened Temporal server image.

    invoke build [--dry-run]    build IMAGE:latest and IMAGE:<X.Y.Z-R> into the engine
    invoke push                 push both tags, one after another, and check the digests
    invoke bump [--write]       the next free tag (registry + git tags), written to versions.toml
    invoke status               versions, local image, registry and git tags
    invoke versions             check versions.toml against plugin/go.mod (used by `nox -s lint`)

The work happens in the `tooling` package; these tasks only read flags, print the plan
and turn a ToolError into a one-line message and exit code 1 (never a traceback).
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from python_on_whales import DockerClient

from tooling.build import BuildOptions, plan_build, run_build
from tooling.bump import plan_bump
from tooling.engine import check_buildx, check_engine
from tooling.errors import ToolError
from tooling.gitinfo import build_date, git_tags, source_commit
from tooling.imagename import ImageName
from tooling.publish import publish, publish_order
from tooling.push import PushSettings, summary_table
from tooling.registry import RegistryClient
from tooling.settings import resolve_image, split_platforms
from tooling.status import status_lines
from tooling.tags import ImageTag, parse_tag
from tooling.versions import check_consistency, load_versions, resolve_tag, write_revision

ROOT = Path(__file__).resolve().parent
IMAGE_HELP = (
    "image name without tag (default: $IMAGE, else ghcr.io/hardened-temporal/temporal-server)"
)

F = TypeVar("F", bound=Callable[..., Any])


def clear_errors(body: F) -> F:
    """Show a ToolError as `error: <message>` with exit code 1 instead of a traceback."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except ToolError as err:
            raise Exit(f"error: {err}", 1) from None

    return wrapper  # type: ignore[return-value]


def _tag(flag: str | None) -> ImageTag:
    if flag:
        return parse_tag(flag, source="--tag")
    return resolve_tag(load_versions(ROOT))


@task(
    help={
        "image": IMAGE_HELP,
        "tag": "image tag X.Y.Z-R (default: $TAG, else temporal-revision from versions.toml)",
        "platform": "comma-separated platforms, e.g. linux/amd64,linux/arm64; more than one "
        "pushes straight to the registry (--load takes a single platform)",
        "network": "network for RUN steps, e.g. host (docker buildx build --network)",
        "builder": "buildx builder instance to use (docker buildx build --builder)",
        "cache": "reuse the build cache (default: --no-cache, as documented)",
        "temporal_image": "runtime base image (default: temporalio/server:<temporal>)",
        "builder_image": "Go builder image (default: golang:<go>)",
        "local_bases": "build local base images first (no registry access) and use them",
        "dry_run": "print the docker command and change nothing",
    }
)
@clear_errors
def build(
    c: Context,
    image: str | None = None,
    tag: str | None = None,
    platform: str | None = None,
    network: str | None = None,
    builder: str | None = None,
    cache: bool = False,
    temporal_image: str | None = None,
    builder_image: str | None = None,
    local_bases: bool = False,
    dry_run: bool = False,
) -> None:
    """Build the image with docker buildx: IMAGE:latest and IMAGE:<X.Y.Z-R>."""
    versions = load_versions(ROOT)
    check_consistency(versions, ROOT)
    if local_bases and not dry_run:
        bases = _ensure_local_bases(versions.go, versions.temporal)
        builder_image = builder_image or bases.builder_image
        temporal_image = temporal_image or bases.runtime_image
    options = BuildOptions(
        platforms=split_platforms(platform),
        network=network or os.environ.get("BUILD_NETWORK") or None,
        builder=builder,
        cache=cache,
        temporal_image=temporal_image,
        builder_image=builder_image,
    )
    plan = plan_build(
        root=ROOT,
        versions=versions,
        image=resolve_image(image),
        tag=_tag(tag),
        commit=source_commit(ROOT),
        date=build_date(),
        options=options,
    )
    for note in plan.notes:
        print(f"note: {note}")
    print(plan.render())
    if dry_run:
        return
    docker = DockerClient()
    check_engine(docker)
    check_buildx(docker)
    result = run_build(docker, plan)
    print(f"image id: {result.image_id or '(pushed, not loaded)'}")
    print("tags:     " + ", ".join(result.tags))
    print("labels:")
    for key, value in sorted(result.labels.items()):
        print(f"  {key}={value}")


@task(
    help={
        "image": IMAGE_HELP,
        "tag": "tag to push besides latest (default: $TAG, else versions.toml)",
        "retries": "retries per tag after the first attempt, on transient errors only",
        "timeout": "seconds allowed for each push attempt",
        "dry_run": "print what would be pushed and change nothing",
    }
)
@clear_errors
def push(
    c: Context,
    image: str | None = None,
    tag: str | None = None,
    retries: int = 3,
    timeout: int = 600,
    dry_run: bool = False,
) -> None:
    """Push IMAGE:<X.Y.Z-R> then IMAGE:latest, one at a time, and verify their digests."""
    name = resolve_image(image)
    image_tag = _tag(tag)
    references = publish_order(name, image_tag.text)
    print(f"push {', '.join(references)} (retries {retries}, timeout {timeout} s per attempt)")
    if dry_run:
        return
    results = publish(
        DockerClient(), name, image_tag.text, PushSettings(retries=retries, timeout=timeout)
    )
    print(summary_table(results))
    failed = [r.reference for r in results if not r.pushed]
    if failed:
        raise ToolError(f"not pushed: {', '.join(failed)}")


@task(
    help={
        "image": IMAGE_HELP,
        "write": "write the next revision into versions.toml",
        "dry_run": "print the plan and change nothing, even with --write",
    }
)
@clear_errors
def bump(c: Context, image: str | None = None, write: bool = False, dry_run: bool = False) -> None:
    """Compute the next free tag X.Y.Z-R from the registry's and git's tags."""
    versions = load_versions(ROOT)
    name: ImageName = resolve_image(image)
    plan = plan_bump(versions, RegistryClient(name).list_tags(), git_tags(ROOT))
    print(f"image: {name.full}")
    print(plan.describe())
    if not plan.changes_file:
        return
    if write and not dry_run:
        write_revision(versions.source, plan.next.revision)
        print(f"wrote revision = {plan.next.revision} to {versions.source}")
    else:
        print(f"(dry run: rerun with --write to set revision = {plan.next.revision})")


@task(help={"image": IMAGE_HELP}, aliases=["tags"])
@clear_errors
def status(c: Context, image: str | None = None) -> None:
    """Show versions, go.mod consistency, the local image, registry tags and git tags."""
    versions = load_versions(ROOT)
    lines = status_lines(
        DockerClient(), ROOT, versions, resolve_image(image), resolve_tag(versions)
    )
    print("\n".join(lines))


@task
@clear_errors
def versions(c: Context) -> None:
    """Check versions.toml (and GO_VERSION/TEMPORAL_VERSION/TAG) against plugin/go.mod."""
    loaded = load_versions(ROOT)
    check_consistency(loaded, ROOT)
    print(
        f"versions consistent: temporal {loaded.temporal}, go {loaded.go}, tag "
        f"{resolve_tag(loaded).text}"
    )


@task
@clear_errors
def bases(c: Context) -> None:
    """Build the local base images (builder and runtime) for machines without a registry."""
    loaded = load_versions(ROOT)
    made = _ensure_local_bases(loaded.go, loaded.temporal)
    print(f"builder image: {made.builder_image}\nruntime image: {made.runtime_image}")


def _ensure_local_bases(go_version: str, temporal_version: str) -> Any:
    # Imported only when asked: local base images are for machines without registry access
    # (tooling/local_bases.py belongs to the smoke tests).
    local_bases = importlib.import_module("tooling.local_bases")
    return local_bases.ensure_local_bases(go_version, temporal_version)
