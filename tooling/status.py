"""`invoke status`: what exists where — versions, local image, registry and git tags."""

from __future__ import annotations

from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException, NoSuchImage

from tooling.errors import ToolError
from tooling.gitinfo import git_tags
from tooling.imagename import ImageName
from tooling.registry import RegistryClient
from tooling.tags import ImageTag, parse_tags
from tooling.versions import GO_MOD, Versions, consistency_problems, read_go_mod


def _local_image(docker: DockerClient, reference: str) -> str:
    try:
        found = docker.image.inspect(reference)
    except NoSuchImage:
        return "not built (run `invoke build`)"
    except DockerException as err:
        return f"unknown: Docker engine not reachable ({(err.stderr or '').strip()[:120]})"
    return f"{found.id[:19]}  created {found.created:%Y-%m-%d %H:%M:%S}"


def status_lines(
    docker: DockerClient, root: Path, versions: Versions, image: ImageName, tag: ImageTag
) -> list[str]:
    lines = [
        f"versions file:   {versions.source}  temporal={versions.temporal} go={versions.go} "
        f"revision={versions.revision}",
        f"tag:             {tag.text}",
    ]
    try:
        problems = consistency_problems(versions, read_go_mod(root / GO_MOD))
    except ToolError as err:
        problems = [str(err)]
    lines.append(
        f"plugin/go.mod:   {'consistent' if not problems else 'INCONSISTENT'}"
        + "".join(f"\n                   {p}" for p in problems)
    )
    for reference in (image.reference(tag.text), image.reference("latest")):
        lines.append(f"local image:     {reference}: {_local_image(docker, reference)}")
    try:
        registry = ", ".join(t.text for t in parse_tags(RegistryClient(image).list_tags()))
        lines.append(f"registry tags:   {image.full}: {registry or 'none'}")
    except ToolError as err:
        lines.append(f"registry tags:   unavailable: {err}")
    lines.append(
        f"git tags:        {', '.join(t.text for t in parse_tags(git_tags(root))) or 'none'}"
    )
    return lines
