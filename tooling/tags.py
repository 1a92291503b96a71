"""Image tags: `X.Y.Z-R`, the Temporal release X.Y.Z plus the image revision R (1, 2, ...).

The pattern is checked strictly before anything else because `packaging.version.Version`
is lenient: "1.29.0-r1", "1.29.0.post1" and "1.29.0-1" all parse to the same post-release.
Ordering uses `Version` (so "-2" < "-10"), but tags are always formatted here, never with
`str(Version)`, which would print the normalized "1.29.0.post1".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from tooling.errors import ToolError

TAG_PATTERN = re.compile(r"^(?P<base>\d+\.\d+\.\d+)-(?P<revision>[1-9]\d*)$")
RELEASE_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class ImageTag:
    """A parsed `X.Y.Z-R` tag."""

    base: str
    revision: int

    @property
    def text(self) -> str:
        return format_tag(self.base, self.revision)

    @property
    def version(self) -> Version:
        """`X.Y.Z-R` as a packaging Version (a post-release), for ordering only."""
        return Version(self.text)

    def __str__(self) -> str:
        return self.text


def check_release(version: str, *, source: str = "TEMPORAL_VERSION") -> str:
    """Return `version` if it is a plain `X.Y.Z` release, else raise naming `source`."""
    if not RELEASE_PATTERN.fullmatch(version):
        raise ToolError(f"{source}={version!r} is not a release version of the form X.Y.Z")
    return version


def format_tag(base: str, revision: int) -> str:
    check_release(base)
    if revision < 1:
        raise ToolError(f"image revision must be 1 or more, got {revision}")
    return f"{base}-{revision}"


def parse_tag(text: str, *, source: str = "TAG") -> ImageTag:
    """Parse a tag, raising a ToolError that names `source` when it is not `X.Y.Z-R`."""
    match = TAG_PATTERN.fullmatch(text)
    if match is None:
        raise ToolError(
            f"{source}={text!r} is not a valid image tag: expected X.Y.Z-R, "
            "e.g. 1.31.2-1 (R is 1, 2, ... without leading zeros)"
        )
    return ImageTag(base=match["base"], revision=int(match["revision"]))


def is_tag(text: str) -> bool:
    return TAG_PATTERN.fullmatch(text) is not None


def parse_tags(texts: Iterable[str]) -> list[ImageTag]:
    """The `X.Y.Z-R` tags among `texts` (others such as "latest" are ignored), oldest first."""
    return sorted({parse_tag(t) for t in texts if is_tag(t)}, key=lambda tag: tag.version)


def next_tag(release: str, existing: Iterable[str]) -> ImageTag:
    """The tag to publish next for Temporal `release`, given every tag already taken.

    Same X.Y.Z as an existing tag: highest R + 1. A new X.Y.Z starts at R = 1.
    """
    check_release(release)
    taken = [tag.revision for tag in parse_tags(existing) if tag.base == release]
    return ImageTag(base=release, revision=max(taken, default=0) + 1)
