"""`invoke push`: push IMAGE:<tag> and IMAGE:latest, then check the registry holds what we have.

After each successful push, the digest `docker push` reported must equal the registry's
manifest digest for that tag and one of the local image's RepoDigests for the repository.
"""

from __future__ import annotations

from dataclasses import replace

from python_on_whales import DockerClient

from tooling.engine import check_engine, check_image_built
from tooling.imagename import ImageName
from tooling.push import PushResult, PushSettings, push_all
from tooling.registry import RegistryClient


def publish_order(image: ImageName, tag: str) -> list[str]:
    """The versioned tag first: if `latest` then fails, the release is still complete."""
    return [image.reference(tag), image.reference("latest")]


def digest_problem(
    docker: DockerClient, registry: RegistryClient, image: ImageName, result: PushResult
) -> str | None:
    """Why the pushed digest cannot be trusted, or None when all three agree."""
    tag = result.reference.rsplit(":", 1)[1]
    remote = registry.manifest_digest(tag)
    if remote is None:
        return f"registry has no manifest for {tag} after the push"
    if result.digest and result.digest != remote:
        return f"docker push reported {result.digest} but the registry serves {remote}"
    local = docker.image.inspect(result.reference).repo_digests or []
    if f"{image.full}@{remote}" not in local:
        return f"registry digest {remote} is not among the local image's digests {local}"
    return None


def publish(
    docker: DockerClient, image: ImageName, tag: str, settings: PushSettings
) -> list[PushResult]:
    check_engine(docker)
    references = publish_order(image, tag)
    for reference in references:
        check_image_built(docker, reference)
    registry = RegistryClient(image)
    verified = []
    for result in push_all(references, settings):
        if result.pushed:
            problem = digest_problem(docker, registry, image, result)
            if problem:
                result = replace(result, pushed=False, error=f"digest check failed: {problem}")
        verified.append(result)
    return verified
