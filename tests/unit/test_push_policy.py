"""Which push failures are retried, how long the waits are, and the summary table."""

import pytest

from tooling.push import Failure, PushResult, backoff_delays, classify, summary_table


@pytest.mark.parametrize(
    ("output", "failure"),
    [
        # What docker push prints (engine 20.10 and CLI 28) for each kind of failure.
        ("unauthorized: authentication required", Failure.AUTH),
        ("denied: requested access to the resource is denied", Failure.AUTH),
        ("no basic auth credentials", Failure.AUTH),
        ("unauthorized: incorrect username or password", Failure.AUTH),
        (
            "An image does not exist locally with the tag: 127.0.0.1:5000/a/b",
            Failure.PERMANENT,
        ),
        ("invalid reference format", Failure.PERMANENT),
        (
            'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
            Failure.TRANSIENT,
        ),
        ("received unexpected HTTP status: 503 Service Unavailable", Failure.TRANSIENT),
        ("net/http: TLS handshake timeout", Failure.TRANSIENT),
        ("EOF", Failure.TRANSIENT),
    ],
)
def test_classify(output: str, failure: Failure) -> None:
    assert classify(output) is failure


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff_delays(0) == []
    assert backoff_delays(4, base=2.0) == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delays(8, base=2.0, cap=60.0)[-3:] == [60.0, 60.0, 60.0]


def test_summary_table_says_what_was_and_was_not_pushed() -> None:
    digest = "sha256:" + "0" * 64
    table = summary_table(
        [
            PushResult("r/i:1.31.2-1", pushed=True, attempts=2, digest=digest),
            PushResult("r/i:latest", pushed=False, attempts=4, error="timed out after 5 s"),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["TAG", "RESULT", "ATTEMPTS", "DIGEST", "/", "ERROR"]
    assert lines[1].split() == ["r/i:1.31.2-1", "pushed", "2", digest]
    assert lines[2].split()[:4] == ["r/i:latest", "NOT", "pushed", "4"]
    assert lines[2].endswith("timed out after 5 s")
