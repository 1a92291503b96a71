"""versions.toml: reading, environment overrides, consistency with plugin/go.mod."""

from pathlib import Path

import pytest
from repo_layout import make_repo

from tooling.errors import ToolError
from tooling.versions import (
    check_consistency,
    load_versions,
    read_go_mod,
    resolve_tag,
    write_revision,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_reads_the_file(repo: Path) -> None:
    versions = load_versions(repo, env={})
    assert (versions.temporal, versions.go, versions.revision) == ("1.31.2", "1.26.8", 1)
    assert resolve_tag(versions, env={}).text == "1.31.2-1"


def test_environment_overrides(repo: Path) -> None:
    env = {"TEMPORAL_VERSION": "1.30.6", "GO_VERSION": "1.25.9", "TAG": "1.30.6-4"}
    versions = load_versions(repo, env=env)
    assert (versions.temporal, versions.go) == ("1.30.6", "1.25.9")
    assert resolve_tag(versions, env=env).text == "1.30.6-4"


def test_malformed_tag_override_is_refused(repo: Path) -> None:
    versions = load_versions(repo, env={})
    with pytest.raises(ToolError, match=r"TAG='1\.31\.2' is not a valid image tag"):
        resolve_tag(versions, env={"TAG": "1.31.2"})


def test_malformed_temporal_override_is_refused(repo: Path) -> None:
    with pytest.raises(ToolError, match=r"TEMPORAL_VERSION='latest' is not a release"):
        load_versions(repo, env={"TEMPORAL_VERSION": "latest"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('temporal = "1.31.2"\ngo = "1.26.8"\n', "missing key 'revision'"),
        (
            'temporal = "1.31.2"\ngo = "1.26.8"\nrevision = "2"\n',
            "'revision' must be an integer, got '2'",
        ),
        ('temporal = "1.31.2"\ngo = "1.26.8"\nrevision = 0\n', "'revision' must be 1 or more"),
        ('temporal = 1.31\ngo = "1.26.8"\nrevision = 1\n', "'temporal' must be a string"),
        ('temporal = \ngo = "1.26.8"\nrevision = 1\n', "not valid TOML"),
    ],
)
def test_bad_versions_file(repo: Path, content: str, message: str) -> None:
    (repo / "versions.toml").write_text(content)
    with pytest.raises(ToolError, match=message):
        load_versions(repo, env={})


def test_go_mod_parsing(repo: Path) -> None:
    go_mod = read_go_mod(repo / "plugin" / "go.mod")
    assert (go_mod.go, go_mod.temporal) == ("1.26.4", "1.31.2")


def test_consistent(repo: Path) -> None:
    check_consistency(load_versions(repo, env={}), repo)


def test_temporal_mismatch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, temporal="1.31.2", mod_temporal="1.30.6")
    with pytest.raises(ToolError, match=r"Temporal version 1\.31\.2 .* differs from .* v1\.30\.6"):
        check_consistency(load_versions(repo, env={}), repo)


@pytest.mark.parametrize(("go", "ok"), [("1.26.3", False), ("1.26.4", True), ("1.27", True)])
def test_go_must_build_the_module(tmp_path: Path, go: str, ok: bool) -> None:
    repo = make_repo(tmp_path, go=go, mod_go="1.26.4")
    versions = load_versions(repo, env={})
    if ok:
        check_consistency(versions, repo)
    else:
        with pytest.raises(ToolError, match=rf"Go {go} .* cannot build .* needs go >= 1\.26\.4"):
            check_consistency(versions, repo)


def test_go_version_override_is_checked(repo: Path) -> None:
    versions = load_versions(repo, env={"GO_VERSION": "1.25.0"})
    with pytest.raises(ToolError, match="cannot build"):
        check_consistency(versions, repo)


def test_write_revision_keeps_comments(repo: Path) -> None:
    write_revision(repo / "versions.toml", 7)
    text = (repo / "versions.toml").read_text()
    assert "revision = 7     # R" in text
    assert "# comment kept" in text
    assert load_versions(repo, env={}).revision == 7


def test_repository_versions_are_consistent() -> None:
    """The real versions.toml and plugin/go.mod (what `nox -s lint` also checks)."""
    check_consistency(load_versions(REPO_ROOT, env={}), REPO_ROOT)
