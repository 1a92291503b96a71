"""Shared fixtures for unit tests."""

from pathlib import Path

import pytest
from repo_layout import make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)
