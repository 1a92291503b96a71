"""`invoke bump`: the next free tag for the Temporal version in use.

Taken tags are the union of the registry's tag list and the git tags, so that two people
cannot publish the same X.Y.Z-R.
"""

from __future__ import annotations

from dataclasses import dataclass

from tooling.tags import ImageTag, next_tag, parse_tags
from tooling.versions import Versions


@dataclass(frozen=True)
class BumpPlan:
    current: ImageTag  # what versions.toml describes now
    next: ImageTag  # the first tag nobody has taken
    registry_tags: list[ImageTag]
    git_tags: list[ImageTag]

    @property
    def changes_file(self) -> bool:
        return self.next.revision != self.current.revision

    def describe(self) -> str:
        def listing(tags: list[ImageTag]) -> str:
            return ", ".join(t.text for t in tags) or "none"

        lines = [
            f"registry tags: {listing(self.registry_tags)}",
            f"git tags:      {listing(self.git_tags)}",
            f"versions file: {self.current.text}",
            f"next tag:      {self.next.text}",
        ]
        if self.changes_file:
            lines.append(f"revision {self.current.revision} -> {self.next.revision}")
        else:
            lines.append("versions file already names the next free tag: nothing to change")
        return "\n".join(lines)


def plan_bump(versions: Versions, registry_tags: list[str], git_tags: list[str]) -> BumpPlan:
    from_registry = [t for t in parse_tags(registry_tags) if t.base == versions.temporal]
    from_git = [t for t in parse_tags(git_tags) if t.base == versions.temporal]
    return BumpPlan(
        current=ImageTag(versions.temporal, versions.revision),
        next=next_tag(versions.temporal, registry_tags + git_tags),
        registry_tags=from_registry,
        git_tags=from_git,
    )
