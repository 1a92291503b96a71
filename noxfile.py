"""Nox sessions. A bare `nox` runs what CI runs: lint, plugin, tests, smoke.

    nox -s lint       ruff, mypy, gofmt, go vet, staticcheck, versions.toml vs plugin/go.mod
    nox -s plugin     go build, go test (-race on authz, coverage floor on authz)
    nox -s tests      pytest tests/unit and tests/docker (real engine, real local registry)
    nox -s smoke      the built image against Keycloak; extra args go to pytest, e.g.
                      `nox -s smoke -- --local-bases`
    nox -s fuzz       Go fuzz targets of plugin/authz, 2 minutes each (`-- 30s` to change)
    nox -s bench      benchmarks against upstream and the end-to-end load (docs/performance.md)

The steps live in tooling/nox_helpers.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# Nox does not put the noxfile's directory on sys.path; the helpers live beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tooling import nox_helpers as helpers

nox.options.sessions = ["lint", "plugin", "tests", "smoke"]
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """Python and Go linters, and the versions consistency check."""
    helpers.install_python_deps(session)
    helpers.python_lint(session)
    helpers.gofmt_clean(session)
    helpers.go(session, "vet", "./...")
    helpers.staticcheck(session)
    helpers.versions_consistent(session)


@nox.session(python=False)
def plugin(session: nox.Session) -> None:
    """Build and test the Go plugin."""
    helpers.go(session, "build", "./...")
    helpers.go(session, "test", "./...")
    helpers.go(session, "test", "-race", helpers.AUTHZ_PACKAGE)
    # The in-process server under concurrent mixed tokens, with the race detector.
    helpers.go(session, "test", "-race", "-run", helpers.RACE_INTEGRATION_TESTS, "./integration/")
    helpers.authz_coverage(session)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests of the tooling, and tests against the real Docker engine and registry."""
    helpers.install_python_deps(session)
    session.run("pytest", "tests/unit", "tests/docker", *session.posargs)


@nox.session
def smoke(session: nox.Session) -> None:
    """Build, push and run the image; check it enforces authorization (tests/smoke)."""
    helpers.install_python_deps(session)
    session.run("pytest", "tests/smoke", *session.posargs)


@nox.session(python=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz each authz target for a set time: 2m each by default, e.g. `nox -s fuzz -- 30s`."""
    fuzztime = session.posargs[0] if session.posargs else "2m"
    for target in helpers.FUZZ_TARGETS:
        helpers.fuzz(session, target, fuzztime)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against upstream and the end-to-end load; writes docs/performance.md.

    Not part of a bare `nox`. Extra args go to tooling/bench.py, e.g.
    `nox -s bench -- --image --local-bases` to measure the image too.
    """
    helpers.install_python_deps(session)
    session.run("python", "-m", "tooling.bench", "--update-docs", *session.posargs)
