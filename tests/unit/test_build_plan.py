"""The build plan: build args, tags, labels, and the command --dry-run prints."""

import shlex
from pathlib import Path

from tooling.build import BuildOptions, plan_build
from tooling.imagename import parse_image_name
from tooling.tags import parse_tag
from tooling.versions import load_versions

COMMIT = "0123456789abcdef0123456789abcdef01234567"
DATE = "2026-12-03T15:04:05Z"


def _plan(repo: Path, options: BuildOptions, tag: str = "1.31.2-3"):  # type: ignore[no-untyped-def]
    return plan_build(
        root=repo,
        versions=load_versions(repo, env={}),
        image=parse_image_name("127.0.0.1:5000/ht/temporal-server"),
        tag=parse_tag(tag),
        commit=COMMIT,
        date=DATE,
        options=options,
    )


def test_defaults(repo: Path) -> None:
    plan = _plan(repo, BuildOptions())
    assert plan.build_args == {
        "GO_VERSION": "1.26.8",
        "TEMPORAL_VERSION": "1.31.2",
        "BUILDER_IMAGE": "golang:1.26.8",
        "TEMPORAL_IMAGE": "temporalio/server:1.31.2",
        "SOURCE_COMMIT": COMMIT,
        "BUILD_DATE": DATE,
        "IMAGE_VERSION": "1.31.2-3",
    }
    assert plan.tags == [
        "127.0.0.1:5000/ht/temporal-server:latest",
        "127.0.0.1:5000/ht/temporal-server:1.31.2-3",
    ]
    assert plan.expected_labels == {
        "org.opencontainers.image.created": DATE,
        "org.opencontainers.image.revision": COMMIT,
        "org.opencontainers.image.version": "1.31.2-3",
        "org.opencontainers.image.base.name": "temporalio/server:1.31.2",
    }
    assert (plan.load, plan.push, plan.cache) == (True, False, False)
    assert plan.file == repo / "Containerfile"


def test_dry_run_command(repo: Path) -> None:
    plan = _plan(repo, BuildOptions(network="host", builder="b1", cache=True))
    expected = (
        "docker buildx build"
        " --build-arg GO_VERSION=1.26.8 --build-arg TEMPORAL_VERSION=1.31.2"
        " --build-arg BUILDER_IMAGE=golang:1.26.8"
        " --build-arg TEMPORAL_IMAGE=temporalio/server:1.31.2"
        f" --build-arg SOURCE_COMMIT={COMMIT} --build-arg BUILD_DATE={DATE}"
        " --build-arg IMAGE_VERSION=1.31.2-3"
        f" --builder b1 --load --file {repo / 'Containerfile'} --network host"
        " --tag 127.0.0.1:5000/ht/temporal-server:latest"
        " --tag 127.0.0.1:5000/ht/temporal-server:1.31.2-3"
        f" {repo}"
    )
    assert plan.render() == expected
    assert shlex.split(plan.render()) == plan.command()


def test_no_cache_by_default(repo: Path) -> None:
    assert "--no-cache" in _plan(repo, BuildOptions()).command()
    assert "--no-cache" not in _plan(repo, BuildOptions(cache=True)).command()


def test_multi_platform_pushes_instead_of_loading(repo: Path) -> None:
    plan = _plan(repo, BuildOptions(platforms=("linux/amd64", "linux/arm64")))
    assert (plan.load, plan.push) == (False, True)
    command = plan.command()
    assert "--push" in command and "--load" not in command
    assert command[command.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert any("pushing straight to 127.0.0.1:5000" in note for note in plan.notes)


def test_single_platform_still_loads(repo: Path) -> None:
    plan = _plan(repo, BuildOptions(platforms=("linux/arm64",)))
    assert (plan.load, plan.push) == (True, False)


def test_base_image_overrides(repo: Path) -> None:
    plan = _plan(
        repo,
        BuildOptions(temporal_image="temporalio/auto-setup:1.29.0", builder_image="local/go:1"),
    )
    assert plan.build_args["TEMPORAL_IMAGE"] == "temporalio/auto-setup:1.29.0"
    assert plan.build_args["BUILDER_IMAGE"] == "local/go:1"
    assert plan.expected_labels["org.opencontainers.image.base.name"] == (
        "temporalio/auto-setup:1.29.0"
    )


def test_tag_for_another_release_is_noted(repo: Path) -> None:
    plan = _plan(repo, BuildOptions(), tag="1.30.0-1")
    assert plan.build_args["IMAGE_VERSION"] == "1.30.0-1"
    assert any("not for Temporal 1.31.2" in note for note in plan.notes)
