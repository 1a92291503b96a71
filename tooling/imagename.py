"""Split an image name into the registry host and the repository path, as Docker does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tooling.errors import ToolError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# Lower-case path components separated by /, each [a-z0-9] with ., _, __ or - between.
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")


@dataclass(frozen=True)
class ImageName:
    registry: str  # host[:port] as written in the name, docker.io when none is
    repository: str  # path inside the registry, e.g. hardened-temporal/temporal-server

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def is_loopback(self) -> bool:
        host = self.registry.rsplit(":", 1)[0] if ":" in self.registry else self.registry
        return host in ("localhost", "::1", "[::1]") or host.startswith("127.")

    @property
    def api_url(self) -> str:
        # Loopback registries speak plain HTTP (the engine treats them as insecure too).
        scheme = "http" if self.is_loopback else "https"
        return f"{scheme}://{self.api_host}"

    def reference(self, tag: str) -> str:
        return f"{self.full}:{tag}"

    @property
    def full(self) -> str:
        return f"{self.registry}/{self.repository}"


def parse_image_name(image: str, *, source: str = "IMAGE") -> ImageName:
    """`ghcr.io/org/name` → (ghcr.io, org/name); `org/name` → (docker.io, org/name)."""
    if not image or "@" in image or image.endswith("/"):
        raise ToolError(f"{source}={image!r} is not an image name such as ghcr.io/org/name")
    first, _, rest = image.partition("/")
    has_host = rest != "" and ("." in first or ":" in first or first == "localhost")
    registry, path = (first, rest) if has_host else (DOCKER_HUB, image)
    if ":" in path:
        raise ToolError(
            f"{source}={image!r} must not carry a tag: the tag comes from versions.toml or TAG"
        )
    if not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        raise ToolError(
            f"{source}={image!r}: repository {path!r} must be lower-case components "
            "separated by '/'"
        )
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageName(registry=registry, repository=path)
