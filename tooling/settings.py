"""Where the tasks get their inputs: flags first, then the environment, then the defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tooling.build import DEFAULT_IMAGE
from tooling.imagename import ImageName, parse_image_name


def resolve_image(flag: str | None, env: Mapping[str, str] | None = None) -> ImageName:
    """--image, else $IMAGE, else the default public name."""
    env = os.environ if env is None else env
    if flag:
        return parse_image_name(flag, source="--image")
    if env.get("IMAGE"):
        return parse_image_name(env["IMAGE"], source="IMAGE")
    return parse_image_name(DEFAULT_IMAGE)


def split_platforms(flag: str | None) -> tuple[str, ...]:
    """ "linux/amd64,linux/arm64" → ("linux/amd64", "linux/arm64")."""
    return tuple(p.strip() for p in (flag or "").split(",") if p.strip())
