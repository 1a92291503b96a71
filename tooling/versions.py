"""The versions this repository builds, read from `versions.toml` (the single source of truth).

`GO_VERSION`, `TEMPORAL_VERSION` and `TAG` in the environment override the file, as the
original workflow documents (`export TAG=${TEMPORAL_VERSION}-R`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from tooling.errors import ToolError
from tooling.tags import ImageTag, check_release, format_tag, parse_tag

VERSIONS_FILE = "versions.toml"
GO_MOD = Path("plugin") / "go.mod"
TEMPORAL_MODULE = "go.temporal.io/server"


@dataclass(frozen=True)
class Versions:
    temporal: str
    go: str
    revision: int
    source: Path

    @property
    def file_tag(self) -> str:
        """The tag the versions file describes, before any TAG override."""
        return format_tag(self.temporal, self.revision)


@dataclass(frozen=True)
class GoMod:
    go: str
    temporal: str | None
    path: Path


def repo_root() -> Path:
    """The repository root: the directory holding versions.toml above this package."""
    return Path(__file__).resolve().parent.parent


def load_versions(root: Path | None = None, env: Mapping[str, str] | None = None) -> Versions:
    """Read versions.toml under `root`, then apply GO_VERSION / TEMPORAL_VERSION overrides."""
    root = root or repo_root()
    env = os.environ if env is None else env
    path = root / VERSIONS_FILE
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ToolError(f"{path} not found: it holds the temporal, go and revision keys") from None
    except tomllib.TOMLDecodeError as err:
        raise ToolError(f"{path} is not valid TOML: {err}") from None

    def value(key: str, kind: type) -> object:
        if key not in data:
            raise ToolError(f"{path}: missing key {key!r}")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            expected = "an integer" if kind is int else "a string"
            raise ToolError(f"{path}: {key!r} must be {expected}, got {data[key]!r}")
        return data[key]

    temporal = env.get("TEMPORAL_VERSION") or str(value("temporal", str))
    go = env.get("GO_VERSION") or str(value("go", str))
    revision = value("revision", int)
    assert isinstance(revision, int)
    source = "TEMPORAL_VERSION" if env.get("TEMPORAL_VERSION") else f"{path}: temporal"
    check_release(temporal, source=source)
    _go_version(go, source="GO_VERSION" if env.get("GO_VERSION") else f"{path}: go")
    if revision < 1:
        raise ToolError(f"{path}: 'revision' must be 1 or more, got {revision}")
    return Versions(temporal=temporal, go=go, revision=revision, source=path)


def resolve_tag(versions: Versions, env: Mapping[str, str] | None = None) -> ImageTag:
    """The tag to build: TAG from the environment when set (validated), else the file's."""
    env = os.environ if env is None else env
    override = env.get("TAG")
    if override:
        return parse_tag(override, source="TAG")
    return parse_tag(versions.file_tag, source=f"{versions.source}")


def read_go_mod(path: Path) -> GoMod:
    """The `go` directive and the go.temporal.io/server requirement of a go.mod file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ToolError(f"{path} not found") from None
    go_match = re.search(r"^go\s+(\S+)\s*$", text, re.MULTILINE)
    if go_match is None:
        raise ToolError(f"{path}: no 'go' directive")
    temporal_match = re.search(
        rf"^\s*(?:require\s+)?{re.escape(TEMPORAL_MODULE)}\s+v(\S+)", text, re.MULTILINE
    )
    return GoMod(go=go_match[1], temporal=temporal_match[1] if temporal_match else None, path=path)


def _go_version(text: str, *, source: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise ToolError(f"{source}={text!r} is not a Go version such as 1.26.8") from None


def consistency_problems(versions: Versions, go_mod: GoMod) -> list[str]:
    """What is inconsistent between the versions in use and plugin/go.mod (empty when fine)."""
    problems = []
    if go_mod.temporal is None:
        problems.append(f"{go_mod.path}: does not require {TEMPORAL_MODULE}")
    elif go_mod.temporal != versions.temporal:
        problems.append(
            f"Temporal version {versions.temporal} (from {versions.source} or TEMPORAL_VERSION) "
            f"differs from {TEMPORAL_MODULE} v{go_mod.temporal} in {go_mod.path}"
        )
    needed = _go_version(go_mod.go, source=f"{go_mod.path}: go")
    if _go_version(versions.go, source="GO_VERSION") < needed:
        problems.append(
            f"Go {versions.go} (from {versions.source} or GO_VERSION) cannot build "
            f"{go_mod.path}, which needs go >= {go_mod.go}"
        )
    return problems


def check_consistency(versions: Versions, root: Path | None = None) -> None:
    """Raise a ToolError listing every inconsistency with plugin/go.mod."""
    go_mod = read_go_mod((root or repo_root()) / GO_MOD)
    problems = consistency_problems(versions, go_mod)
    if problems:
        raise ToolError("versions are inconsistent:\n  " + "\n  ".join(problems))


def write_revision(path: Path, revision: int) -> None:
    """Rewrite the `revision = N` line of versions.toml, keeping its comments."""
    if revision < 1:
        raise ToolError(f"image revision must be 1 or more, got {revision}")
    text = path.read_text()
    new_text, count = re.subn(
        r"^(revision\s*=\s*)\d+", rf"\g<1>{revision}", text, count=1, flags=re.MULTILINE
    )
    if count != 1:
        raise ToolError(f"{path}: no 'revision = N' line to update")
    path.write_text(new_text)
