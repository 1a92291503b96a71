"""What git says about the source: the commit to stamp into the image, and the tags taken."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from tooling.errors import ToolError


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ToolError("git not found on PATH: install git") from None
    if result.returncode != 0:
        raise ToolError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout


def source_commit(root: Path) -> str:
    """`git rev-parse HEAD`, with "-dirty" appended when the work tree has changes."""
    commit = _git(root, "rev-parse", "HEAD").strip()
    dirty = _git(root, "status", "--porcelain").strip() != ""
    return f"{commit}-dirty" if dirty else commit


def git_tags(root: Path) -> list[str]:
    """Every tag in the repository (filtering to X.Y.Z-R is the caller's business)."""
    return _git(root, "tag", "--list").split()


def build_date(now: datetime | None = None) -> str:
    """UTC time in RFC 3339, to the second: 2026-12-03T15:04:05Z."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
