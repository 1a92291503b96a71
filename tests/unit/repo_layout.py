"""A throwaway repository layout (versions.toml + plugin/go.mod) for tests."""

from pathlib import Path

GO_MOD = """module example.com/plugin

go {go}

require (
\tgithub.com/go-jose/go-jose/v4 v4.1.9
\tgo.temporal.io/server v{temporal}
)
"""
VERSIONS = """# comment kept
temporal = "{temporal}"   # trailing comment
go = "{go}"
revision = {revision}     # R
"""


def make_repo(
    root: Path,
    *,
    temporal: str = "1.31.2",
    go: str = "1.26.8",
    revision: int = 1,
    mod_temporal: str | None = None,
    mod_go: str = "1.26.4",
) -> Path:
    (root / "plugin").mkdir(parents=True, exist_ok=True)
    (root / "versions.toml").write_text(
        VERSIONS.format(temporal=temporal, go=go, revision=revision)
    )
    (root / "plugin" / "go.mod").write_text(
        GO_MOD.format(go=mod_go, temporal=mod_temporal or temporal)
    )
    return root
