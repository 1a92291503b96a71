"""What the Nox sessions do, kept out of noxfile.py so each session stays a few lines."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

from tooling.errors import ToolError

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hardened-temporal"

# staticcheck 2026.x (module version v0.8.x) understands Go 1.26. Installed once per
# version into the cache, outside the repository.
STATICCHECK_MODULE = "honnef.co/go/tools/cmd/staticcheck"
STATICCHECK_VERSION = "v0.8.2"
STATICCHECK_BIN = CACHE / "tools" / f"staticcheck-{STATICCHECK_VERSION}"
# The authorization package decides who may do what: it must stay well tested.
AUTHZ_PACKAGE = "./authz/"
AUTHZ_MIN_COVERAGE = 85.0
# Integration tests also run under -race: the load test drives the real server with
# 50+ concurrent SDK clients and mixed tokens.
RACE_INTEGRATION_TESTS = "^TestLoadConcurrentMixedTokens$"
# Go fuzz targets in plugin/authz/fuzz_test.go; docs/security.md has their figures.
FUZZ_TARGETS = [
    "FuzzGlob",
    "FuzzMappingRules",
    "FuzzBearerToken",
    "FuzzSignedPayload",
    "FuzzLoadConfig",
]
PYTHON_PATHS = ["tooling", "tasks.py", "noxfile.py", "tests"]
_COVERAGE = re.compile(r"coverage:\s+([\d.]+)% of statements")


def install_python_deps(session: nox.Session) -> None:
    """The project with its dev extras (nox, pytest, ruff, mypy, temporalio, ...)."""
    session.install("-e", f"{ROOT}[dev]")


def go(session: nox.Session, *args: str, silent: bool = False) -> str:
    """Run `go ARGS` inside plugin/ and return its output."""
    with session.chdir(PLUGIN):
        output = session.run("go", *args, external=True, silent=silent)
    return output if isinstance(output, str) else ""


def python_lint(session: nox.Session) -> None:
    session.run("ruff", "check", *PYTHON_PATHS)
    session.run("ruff", "format", "--check", *PYTHON_PATHS)
    session.run("mypy")


def gofmt_clean(session: nox.Session) -> None:
    with session.chdir(PLUGIN):
        unformatted = session.run("gofmt", "-l", ".", external=True, silent=True)
    if isinstance(unformatted, str) and unformatted.strip():
        session.error(f"gofmt would reformat (run `gofmt -w plugin/`):\n{unformatted}")


def staticcheck(session: nox.Session) -> None:
    """Install staticcheck once into the cache directory, then run it on plugin/."""
    binary = STATICCHECK_BIN / "staticcheck"
    if not binary.exists():
        STATICCHECK_BIN.mkdir(parents=True, exist_ok=True)
        session.run(
            "go",
            "install",
            f"{STATICCHECK_MODULE}@{STATICCHECK_VERSION}",
            external=True,
            env={"GOBIN": str(STATICCHECK_BIN)},
        )
    with session.chdir(PLUGIN):
        session.run(str(binary), "./...", external=True)


def versions_consistent(session: nox.Session) -> None:
    session.run("invoke", "versions")


def coverage_percent(go_test_output: str, package: str) -> float:
    """The "coverage: N% of statements" figure from `go test -cover` output."""
    match = _COVERAGE.search(go_test_output)
    if match is None:
        raise ToolError(f"go test -cover printed no coverage figure for {package}")
    return float(match[1])


def authz_coverage(session: nox.Session) -> None:
    output = go(session, "test", "-cover", AUTHZ_PACKAGE, silent=True)
    print(output.strip())
    percent = coverage_percent(output, AUTHZ_PACKAGE)
    if percent < AUTHZ_MIN_COVERAGE:
        session.error(f"{AUTHZ_PACKAGE} coverage {percent:.1f}% is below {AUTHZ_MIN_COVERAGE:.0f}%")
    session.log(f"{AUTHZ_PACKAGE} coverage {percent:.1f}% >= {AUTHZ_MIN_COVERAGE:.0f}%")


def fuzz(session: nox.Session, target: str, fuzztime: str) -> None:
    """Run one fuzz target; a crasher is saved under plugin/authz/testdata/fuzz/."""
    go(
        session,
        "test",
        AUTHZ_PACKAGE,
        "-run",
        "^$",
        "-fuzz",
        f"^{target}$",
        "-fuzztime",
        fuzztime,
        "-fuzzminimizetime",
        "10s",
        "-parallel=1",
    )
