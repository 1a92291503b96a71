"""Plan and run `docker buildx build` of the Containerfile.

A BuildPlan holds every input of the build, so that `--dry-run` can print exactly the
command that `run_build` executes through python-on-whales, and tests can check it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient, Image
from python_on_whales.exceptions import DockerException

from tooling.errors import ToolError
from tooling.imagename import ImageName
from tooling.tags import ImageTag
from tooling.versions import Versions

DEFAULT_IMAGE = "ghcr.io/hardened-temporal/temporal-server"
CONTAINERFILE = "Containerfile"
OCI = "org.opencontainers.image"


def default_temporal_image(versions: Versions) -> str:
    return f"temporalio/server:{versions.temporal}"


def default_builder_image(versions: Versions) -> str:
    return f"golang:{versions.go}"


@dataclass(frozen=True)
class BuildOptions:
    """What the user chose on the command line (None = the default)."""

    platforms: tuple[str, ...] = ()
    network: str | None = None
    builder: str | None = None
    cache: bool = False
    temporal_image: str | None = None
    builder_image: str | None = None


@dataclass(frozen=True)
class BuildPlan:
    context: Path
    file: Path
    build_args: dict[str, str]
    tags: list[str]
    expected_labels: dict[str, str]
    platforms: tuple[str, ...] = ()
    network: str | None = None
    builder: str | None = None
    cache: bool = False
    load: bool = True
    push: bool = False
    notes: list[str] = field(default_factory=list)

    def command(self) -> list[str]:
        """The `docker buildx build` command, in the order python-on-whales writes it."""
        cmd = ["docker", "buildx", "build"]
        for key, value in self.build_args.items():
            cmd += ["--build-arg", f"{key}={value}"]
        if self.builder:
            cmd += ["--builder", self.builder]
        if self.push:
            cmd.append("--push")
        if self.load:
            cmd.append("--load")
        cmd += ["--file", str(self.file)]
        if self.platforms:
            cmd += ["--platform", ",".join(self.platforms)]
        if self.network:
            cmd += ["--network", self.network]
        if not self.cache:
            cmd.append("--no-cache")
        for tag in self.tags:
            cmd += ["--tag", tag]
        cmd.append(str(self.context))
        return cmd

    def render(self) -> str:
        return shlex.join(self.command())


def plan_build(
    *,
    root: Path,
    versions: Versions,
    image: ImageName,
    tag: ImageTag,
    commit: str,
    date: str,
    options: BuildOptions,
) -> BuildPlan:
    """Compute the build: args from versions.toml, tags IMAGE:latest and IMAGE:<tag>."""
    temporal_image = options.temporal_image or default_temporal_image(versions)
    build_args = {
        "GO_VERSION": versions.go,
        "TEMPORAL_VERSION": versions.temporal,
        "BUILDER_IMAGE": options.builder_image or default_builder_image(versions),
        "TEMPORAL_IMAGE": temporal_image,
        "SOURCE_COMMIT": commit,
        "BUILD_DATE": date,
        "IMAGE_VERSION": tag.text,
    }
    labels = {
        f"{OCI}.created": date,
        f"{OCI}.revision": commit,
        f"{OCI}.version": tag.text,
        f"{OCI}.base.name": temporal_image,
    }
    # `--load` puts one platform's image into the engine; several platforms go to the
    # registry directly (`--push`), so they need a registry the engine can log in to.
    multi = len(options.platforms) > 1
    notes = []
    if multi:
        notes.append(
            f"{len(options.platforms)} platforms: pushing straight to {image.registry} "
            "(--load takes a single platform)"
        )
    if tag.base != versions.temporal:
        notes.append(f"tag {tag.text} is not for Temporal {versions.temporal}")
    return BuildPlan(
        context=root,
        file=root / CONTAINERFILE,
        build_args=build_args,
        tags=[image.reference("latest"), image.reference(tag.text)],
        expected_labels=labels,
        platforms=options.platforms,
        network=options.network,
        builder=options.builder,
        cache=options.cache,
        load=not multi,
        push=multi,
        notes=notes,
    )


@dataclass(frozen=True)
class BuildResult:
    image_id: str | None
    tags: list[str]
    labels: dict[str, str]


def run_build(docker: DockerClient, plan: BuildPlan) -> BuildResult:
    """Run the plan through python-on-whales and report what the engine now holds."""
    try:
        built = docker.buildx.build(
            plan.context,
            build_args=plan.build_args,
            builder=plan.builder,
            push=plan.push,
            load=plan.load,
            file=plan.file,
            platforms=list(plan.platforms) or None,
            network=plan.network,
            cache=plan.cache,
            tags=plan.tags,
        )
    except DockerException as err:
        raise ToolError(
            f"docker buildx build failed (exit {err.return_code}); the build log above "
            "says which step"
        ) from None
    if not isinstance(built, Image):
        return BuildResult(image_id=None, tags=plan.tags, labels=plan.expected_labels)
    labels = dict(built.config.labels or {})
    wrong = {k: v for k, v in plan.expected_labels.items() if labels.get(k) != v}
    if wrong:
        raise ToolError(
            "the built image lacks the expected labels "
            + ", ".join(f"{k}={v!r} (got {labels.get(k)!r})" for k, v in wrong.items())
            + f": check the LABEL instruction of {plan.file}"
        )
    return BuildResult(image_id=built.id, tags=list(built.repo_tags), labels=labels)
