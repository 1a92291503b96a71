"""The coverage floor of the plugin session reads `go test -cover` output."""

import pytest

from tooling.errors import ToolError
from tooling.nox_helpers import coverage_percent

OUTPUT = "ok  \tgithub.com/x/plugin/authz\t3.021s\tcoverage: 87.4% of statements\n"


def test_reads_the_figure() -> None:
    assert coverage_percent(OUTPUT, "./authz/") == 87.4


def test_missing_figure_is_an_error() -> None:
    with pytest.raises(ToolError, match=r"no coverage figure for \./authz/"):
        coverage_percent("ok  \tgithub.com/x/plugin/authz\t3.021s\n", "./authz/")
