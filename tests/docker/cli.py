"""Run `invoke` tasks of this repository as a user would, capturing what they print."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def invoke(
    *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("TAG", "IMAGE", "DOCKER_HOST")}
    full_env.update(env or {})
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "invoke", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def assert_clear_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def plugin_dirs() -> list[Path]:
    """Where the docker CLI looks for buildx (those that exist on this machine)."""
    candidates = [
        Path.home() / ".docker" / "cli-plugins",
        Path("/usr/local/lib/docker/cli-plugins"),
        Path("/usr/local/libexec/docker/cli-plugins"),
        Path("/usr/lib/docker/cli-plugins"),
        Path("/usr/libexec/docker/cli-plugins"),
    ]
    return [p for p in candidates if p.is_dir()]


def unshare_available() -> bool:
    return shutil.which("unshare") is not None
