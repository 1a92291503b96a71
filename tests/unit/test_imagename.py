"""Image names: registry host vs repository, as Docker splits them."""

import pytest

from tooling.errors import ToolError
from tooling.imagename import parse_image_name


@pytest.mark.parametrize(
    ("image", "registry", "repository", "api_url"),
    [
        ("ghcr.io/org/temporal-server", "ghcr.io", "org/temporal-server", "https://ghcr.io"),
        ("127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", "http://127.0.0.1:5000"),
        ("localhost:5000/a", "localhost:5000", "a", "http://localhost:5000"),
        ("org/name", "docker.io", "org/name", "https://registry-1.docker.io"),
        ("name", "docker.io", "library/name", "https://registry-1.docker.io"),
    ],
)
def test_split(image: str, registry: str, repository: str, api_url: str) -> None:
    name = parse_image_name(image)
    assert (name.registry, name.repository, name.api_url) == (registry, repository, api_url)


@pytest.mark.parametrize(
    "image", ["", "ghcr.io/org/name:1.0", "ghcr.io/Org/name", "a@sha256:00", "ghcr.io/org/"]
)
def test_rejects(image: str) -> None:
    with pytest.raises(ToolError, match="IMAGE="):
        parse_image_name(image)
