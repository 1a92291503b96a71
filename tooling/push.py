"""Push image tags one after another, with a timeout per attempt and bounded retries.

Why not `docker.push([...])` from python-on-whales: it pushes a list in parallel and has
no timeout. Each attempt here is one `docker push <tag>` subprocess, killed when its
deadline passes, so nothing keeps running after a timeout. Only transient failures
(network, 5xx, timeouts) are retried, with exponential backoff; an authentication or
authorization failure is reported at once, since retrying cannot fix it.
"""

from __future__ import annotations

import enum
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tooling.errors import ToolError

AUTH_MARKERS = (
    "unauthorized",
    "denied",
    "authentication required",
    "no basic auth credentials",
    "insufficient_scope",
    "forbidden",
)
PERMANENT_MARKERS = (
    "does not exist locally",
    "no such image",
    "invalid reference format",
    "repository name must be",
    "name invalid",
)
_DIGEST = re.compile(r"digest:\s*(sha256:[0-9a-f]{64})")


class Failure(enum.Enum):
    AUTH = "auth"  # the registry refused who we are: never retried
    PERMANENT = "permanent"  # nothing to push, or a bad name: never retried
    TRANSIENT = "transient"  # network trouble, server errors, timeouts: retried


def classify(output: str) -> Failure:
    text = output.lower()
    if any(marker in text for marker in AUTH_MARKERS):
        return Failure.AUTH
    if any(marker in text for marker in PERMANENT_MARKERS):
        return Failure.PERMANENT
    return Failure.TRANSIENT


def backoff_delays(retries: int, base: float = 2.0, cap: float = 60.0) -> list[float]:
    """Waits before retry 1..retries: base, 2·base, 4·base, ... each at most `cap` seconds."""
    return [min(cap, base * 2**attempt) for attempt in range(retries)]


@dataclass(frozen=True)
class PushResult:
    reference: str
    pushed: bool
    attempts: int
    digest: str | None = None
    error: str | None = None
    failure: Failure | None = None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class PushSettings:
    retries: int = 3  # attempts after the first, on transient failures only
    timeout: float = 600.0  # seconds per attempt
    backoff_base: float = 2.0  # first wait between attempts, doubled each time
    docker: tuple[str, ...] = ("docker",)
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = print


def push_reference(reference: str, settings: PushSettings) -> PushResult:
    """`docker push reference`: at most 1 + retries attempts of at most `timeout` s each."""
    retries, timeout, docker, log = (
        settings.retries,
        settings.timeout,
        settings.docker,
        settings.log,
    )
    if retries < 0 or timeout <= 0:
        raise ToolError(f"--retries must be >= 0 and --timeout > 0 (got {retries}, {timeout})")
    delays = backoff_delays(retries, base=settings.backoff_base)
    attempt = 0
    while True:
        attempt += 1
        log(f"push {reference}: attempt {attempt} of {retries + 1} (timeout {timeout:.0f} s)")
        try:
            done = subprocess.run(
                [*docker, "push", reference],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            output = (done.stdout or "") + (done.stderr or "")
            if done.returncode == 0:
                match = _DIGEST.search(output)
                return PushResult(
                    reference, pushed=True, attempts=attempt, digest=match[1] if match else None
                )
            error, failure = _last_line(done.stderr or output), classify(output)
        except subprocess.TimeoutExpired:
            # subprocess.run has killed the docker CLI; the engine drops the upload with it.
            error, failure = f"timed out after {timeout:.0f} s", Failure.TRANSIENT
        except FileNotFoundError:
            raise ToolError(f"{docker[0]} not found on PATH: install the docker CLI") from None
        log(f"push {reference}: {failure.value} failure: {error}")
        if failure is not Failure.TRANSIENT or attempt > retries:
            return PushResult(
                reference, pushed=False, attempts=attempt, error=error, failure=failure
            )
        delay = delays[attempt - 1]
        log(f"push {reference}: retrying in {delay:.0f} s")
        settings.sleep(delay)


def push_all(references: Sequence[str], settings: PushSettings) -> list[PushResult]:
    """Push each reference in turn; after a failure the rest are left unpushed."""
    results: list[PushResult] = []
    for reference in references:
        if results and not results[-1].pushed:
            results.append(
                PushResult(reference, pushed=False, attempts=0, error="not tried: earlier failure")
            )
            continue
        results.append(push_reference(reference, settings))
    return results


def summary_table(results: Sequence[PushResult]) -> str:
    """A plain-text table of what was pushed and what was not."""
    rows = [("TAG", "RESULT", "ATTEMPTS", "DIGEST / ERROR")]
    for r in results:
        status = "pushed" if r.pushed else "NOT pushed"
        rows.append((r.reference, status, str(r.attempts), r.digest or r.error or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    )
