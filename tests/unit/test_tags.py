"""Tag rules: strict X.Y.Z-R, numeric ordering, next-tag computation."""

import pytest

from tooling.errors import ToolError
from tooling.tags import ImageTag, format_tag, next_tag, parse_tag, parse_tags


@pytest.mark.parametrize(
    ("text", "base", "revision"),
    [("1.31.2-1", "1.31.2", 1), ("1.29.0-10", "1.29.0", 10), ("10.0.0-123", "10.0.0", 123)],
)
def test_parse_valid(text: str, base: str, revision: int) -> None:
    tag = parse_tag(text)
    assert (tag.base, tag.revision) == (base, revision)
    assert tag.text == text


@pytest.mark.parametrize(
    "text",
    [
        "1.31.2",  # no revision
        "1.31.2-0",  # revisions start at 1
        "1.31.2-01",  # no leading zeros
        "1.31.2-r1",  # packaging would accept this as a post-release
        "1.31.2.post1",  # ... and this
        "v1.31.2-1",
        "1.31-1",
        "1.31.2-1-1",
        "latest",
        " 1.31.2-1",
        "1.31.2-1\n",
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ToolError, match=r"TAG=.*expected X\.Y\.Z-R"):
        parse_tag(text)


def test_error_names_the_source() -> None:
    with pytest.raises(ToolError, match=r"^--tag='bad' is not a valid image tag"):
        parse_tag("bad", source="--tag")


def test_ordering_is_numeric() -> None:
    tags = parse_tags(["1.31.2-10", "1.31.2-2", "1.30.0-3", "latest", "1.31.10-1", "1.31.2-1"])
    assert [t.text for t in tags] == ["1.30.0-3", "1.31.2-1", "1.31.2-2", "1.31.2-10", "1.31.10-1"]
    assert parse_tag("1.31.2-2").version < parse_tag("1.31.2-10").version


def test_formatting_never_normalizes() -> None:
    # str(packaging.version.Version("1.31.2-3")) would be "1.31.2.post3".
    assert format_tag("1.31.2", 3) == "1.31.2-3"
    assert str(ImageTag("1.31.2", 3)) == "1.31.2-3"


@pytest.mark.parametrize(
    ("release", "existing", "expected"),
    [
        ("1.31.2", [], "1.31.2-1"),
        ("1.31.2", ["1.31.2-1"], "1.31.2-2"),
        ("1.31.2", ["1.31.2-1", "1.31.2-2", "1.31.2-10", "latest"], "1.31.2-11"),
        ("1.31.2", ["1.31.2-3", "1.31.2-1"], "1.31.2-4"),  # the max, not the count
        ("1.31.3", ["1.31.2-7", "latest"], "1.31.3-1"),  # new release resets R
        ("1.31.2", ["1.31.20-5", "11.31.2-5"], "1.31.2-1"),  # no prefix confusion
        ("1.31.2", ["1.31.2-r5", "1.31.2.post5"], "1.31.2-1"),  # only strict tags count
    ],
)
def test_next_tag(release: str, existing: list[str], expected: str) -> None:
    assert next_tag(release, existing).text == expected


def test_next_tag_rejects_non_release() -> None:
    with pytest.raises(ToolError, match=r"TEMPORAL_VERSION='1\.31' is not a release"):
        next_tag("1.31", [])
