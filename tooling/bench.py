"""Run the performance benchmarks and write the results table (`nox -s bench`).

Three parts, all optional, all measured on this machine in one run:

    micro   the Go micro-benchmarks in plugin/authz (bench_test.go): claim mapping,
            Authorize and the interceptor path, ours against upstream's defaults.
            `go test -bench` is run once per round (-count 1), so each round times ours
            and upstream back to back; the ratio reported is the median of the
            per-round ratios, which is far steadier than a ratio of medians on a busy host.
    e2e     the end-to-end load in plugin/bench (build tag e2ebench): a server with our
            authorization and one without, alternately, under the same SDK load.
    image   image size over its base, cold build time and the rebuild time after editing
            one .go file (only with --image: slow, and it empties the Go cache mounts).

    python -m tooling.bench                       # micro + e2e, table on stdout
    python -m tooling.bench --image --local-bases # also the image numbers
    python -m tooling.bench --update-docs         # also write the table into docs/performance.md

The table goes between the markers in docs/performance.md; the raw numbers go to
build/bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tooling.errors import ToolError

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin"
RESULTS_DIR = ROOT / "build" / "bench"
DOC = ROOT / "docs" / "performance.md"
BEGIN_MARK = "<!-- bench:begin (written by tooling/bench.py; do not edit by hand) -->"
END_MARK = "<!-- bench:end -->"

# `BenchmarkClaimMapping/RS256/repeated/ours-2   2000   639.4 ns/op   0 B/op   0 allocs/op`
_BENCH_LINE = re.compile(
    r"^(?P<name>Benchmark\S+?)(?:-\d+)?\s+\d+\s+(?P<ns>[\d.]+) ns/op"
    r"(?:\s+(?P<bytes>[\d.]+) B/op)?(?:\s+(?P<allocs>[\d.]+) allocs/op)?"
)
SIDES = ("ours", "upstream")


@dataclass(frozen=True)
class Sample:
    """One benchmark line of one round."""

    name: str  # without the -GOMAXPROCS suffix
    ns_op: float
    bytes_op: float
    allocs_op: float

    @property
    def work(self) -> str:
        """The name without its side: what ours and upstream both did."""
        return self.name.rsplit("/", 1)[0]

    @property
    def side(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def parse_bench_output(text: str) -> list[Sample]:
    """Every benchmark result line of `go test -bench -benchmem` output."""
    samples = []
    for line in text.splitlines():
        m = _BENCH_LINE.match(line.strip())
        if m:
            samples.append(
                Sample(
                    name=m["name"],
                    ns_op=float(m["ns"]),
                    bytes_op=float(m["bytes"] or 0),
                    allocs_op=float(m["allocs"] or 0),
                )
            )
    return samples


@dataclass(frozen=True)
class Comparison:
    """Ours against upstream for one piece of work, over all rounds."""

    work: str
    ours_ns: float  # medians over rounds
    upstream_ns: float
    ours_bytes: float
    upstream_bytes: float
    ours_allocs: float
    upstream_allocs: float
    ratio: float  # median over rounds of ours_ns / upstream_ns (below 1: ours is faster)
    rounds: int


def compare(rounds: Sequence[Sequence[Sample]]) -> list[Comparison]:
    """Pair ours with upstream in each round; medians over the rounds."""
    order: list[str] = []
    by_work: dict[str, dict[str, list[Sample]]] = {}
    ratios: dict[str, list[float]] = {}
    for samples in rounds:
        this_round: dict[str, dict[str, Sample]] = {}
        for s in samples:
            if s.side not in SIDES:
                continue
            if s.work not in by_work:
                order.append(s.work)
                by_work[s.work] = {side: [] for side in SIDES}
            by_work[s.work][s.side].append(s)
            this_round.setdefault(s.work, {})[s.side] = s
        for work, sides in this_round.items():
            if len(sides) == 2 and sides["upstream"].ns_op > 0:
                ratios.setdefault(work, []).append(sides["ours"].ns_op / sides["upstream"].ns_op)
    out = []
    for work in order:
        ours, upstream = by_work[work]["ours"], by_work[work]["upstream"]
        if not ours or not upstream or work not in ratios:
            raise ToolError(f"benchmark {work}: no round has both ours and upstream")
        out.append(
            Comparison(
                work=work,
                ours_ns=_median(s.ns_op for s in ours),
                upstream_ns=_median(s.ns_op for s in upstream),
                ours_bytes=_median(s.bytes_op for s in ours),
                upstream_bytes=_median(s.bytes_op for s in upstream),
                ours_allocs=_median(s.allocs_op for s in ours),
                upstream_allocs=_median(s.allocs_op for s in upstream),
                ratio=statistics.median(ratios[work]),
                rounds=len(ratios[work]),
            )
        )
    return out


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def run_micro(rounds: int, benchtime: str, pattern: str = ".") -> list[list[Sample]]:
    """`go test -bench` in plugin/authz, once per round."""
    command = [
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        pattern,
        "-benchmem",
        "-count",
        "1",
        "-benchtime",
        benchtime,
        "./authz/",
    ]
    out = []
    for i in range(rounds):
        print(f"micro-benchmarks, round {i + 1}/{rounds}: {' '.join(command)}", flush=True)
        text = _run(command, cwd=PLUGIN)
        samples = parse_bench_output(text)
        if not samples:
            raise ToolError("go test -bench printed no benchmark results:\n" + text[-2000:])
        out.append(samples)
    return out


# ---------------------------------------------------------------------------------------
# End-to-end


@dataclass(frozen=True)
class E2ERun:
    mode: str
    workload: str
    callers: int
    round: int
    calls: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    denied: int = 0


@dataclass(frozen=True)
class E2ESummary:
    workload: str
    callers: int
    auth_throughput: float  # medians over rounds
    noauth_throughput: float
    auth_p50_ms: float
    noauth_p50_ms: float
    auth_p99_ms: float
    noauth_p99_ms: float
    ratio: float  # median over rounds of auth / noauth throughput
    rounds: int
    auth_errors: int  # failed calls, all rounds (server errors under overload)
    noauth_errors: int


def load_e2e_runs(path: Path) -> list[E2ERun]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ToolError(f"{path}: cannot read the end-to-end results: {err}") from None
    return [E2ERun(**r) for r in raw]


def summarize_e2e(runs: Sequence[E2ERun]) -> list[E2ESummary]:
    keys: list[tuple[str, int]] = []
    for r in runs:
        if (r.workload, r.callers) not in keys:
            keys.append((r.workload, r.callers))
    out = []
    for workload, callers in keys:
        mine = [r for r in runs if r.workload == workload and r.callers == callers]
        auth = {r.round: r for r in mine if r.mode == "auth"}
        noauth = {r.round: r for r in mine if r.mode == "noauth"}
        paired = sorted(set(auth) & set(noauth))
        if not paired:
            raise ToolError(f"end-to-end {workload} x{callers}: no round ran both modes")
        out.append(
            E2ESummary(
                workload=workload,
                callers=callers,
                auth_throughput=_median(auth[i].throughput for i in paired),
                noauth_throughput=_median(noauth[i].throughput for i in paired),
                auth_p50_ms=_median(auth[i].p50_ms for i in paired),
                noauth_p50_ms=_median(noauth[i].p50_ms for i in paired),
                auth_p99_ms=_median(auth[i].p99_ms for i in paired),
                noauth_p99_ms=_median(noauth[i].p99_ms for i in paired),
                ratio=_median(auth[i].throughput / noauth[i].throughput for i in paired),
                rounds=len(paired),
                auth_errors=sum(auth[i].errors for i in paired),
                noauth_errors=sum(noauth[i].errors for i in paired),
            )
        )
    return out


def run_e2e(out: Path, duration: str, warmup: str, rounds: int, callers: str) -> list[E2ERun]:
    command = [
        "go",
        "test",
        "-tags",
        "e2ebench",
        "-run",
        "^TestEndToEndLoad$",
        "-count",
        "1",
        "-timeout",
        "90m",
        "-v",
        "./bench/",
        "-args",
        f"-e2e.out={out}",
        f"-e2e.duration={duration}",
        f"-e2e.warmup={warmup}",
        f"-e2e.rounds={rounds}",
        f"-e2e.callers={callers}",
    ]
    print("end-to-end load: " + " ".join(command), flush=True)
    _run(command, cwd=PLUGIN, echo=True)
    return load_e2e_runs(out)


# ---------------------------------------------------------------------------------------
# Image

# The file edited for the rebuild measurement (in a copy of the tree, never in place).
EDITED_FILE = Path("plugin") / "authz" / "decision.go"


@dataclass(frozen=True)
class ImageNumbers:
    image: str
    base_image: str
    image_bytes: int
    base_bytes: int
    cold_seconds: float
    rebuild_seconds: float

    @property
    def added_bytes(self) -> int:
        return self.image_bytes - self.base_bytes


def measure_image(
    local_bases: bool,
    image: str,
    builder_image: str | None = None,
    temporal_image: str | None = None,
) -> ImageNumbers:
    """Cold build (no layer cache, empty Go cache mounts), then a rebuild after one edit.

    Both builds run from a copy of the committed tree, so the edit never touches the
    work tree.
    Emptying the cache mounts affects every build on this engine: the cold build fills
    them again.
    """
    # Imported here: the micro and e2e parts must not need the image tooling's deps.
    from python_on_whales import DockerClient

    from tooling.build import BuildOptions, plan_build, run_build
    from tooling.engine import check_buildx, check_engine
    from tooling.imagename import parse_image_name
    from tooling.local_bases import ensure_local_bases
    from tooling.tags import parse_tag
    from tooling.versions import load_versions

    docker = DockerClient()
    check_engine(docker)
    check_buildx(docker)
    versions = load_versions(ROOT)
    if local_bases:
        bases = ensure_local_bases(versions.go, versions.temporal)
        builder_image = builder_image or bases.builder_image
        temporal_image = temporal_image or bases.runtime_image
    name = parse_image_name(image, source="--image-name")
    tag = parse_tag(f"{versions.temporal}-1", source="bench")
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        context = Path(tmp) / "tree"
        _copy_tree(ROOT, context)

        def build(cache: bool) -> float:
            plan = plan_build(
                root=context,
                versions=versions,
                image=name,
                tag=tag,
                commit="bench",
                date="1970-01-01T00:00:00Z",
                options=BuildOptions(
                    network="host",
                    cache=cache,
                    temporal_image=temporal_image,
                    builder_image=builder_image,
                ),
            )
            print(plan.render(), flush=True)
            start = time.monotonic()
            run_build(docker, plan)
            return time.monotonic() - start

        print("emptying the Go cache mounts for a cold build", flush=True)
        _run(["docker", "builder", "prune", "-f", "--filter", "type=exec.cachemount"], cwd=ROOT)
        cold = build(cache=False)
        edited = context / EDITED_FILE
        edited.write_text(
            edited.read_text() + f'\n// rebuild measured {time.time()}\nvar _ = "edit"\n'
        )
        rebuild = build(cache=True)
    base = temporal_image or f"temporalio/server:{versions.temporal}"
    built = name.reference(tag.text)
    return ImageNumbers(
        image=built,
        base_image=base,
        image_bytes=int(docker.image.inspect(built).size),
        base_bytes=int(docker.image.inspect(base).size),
        cold_seconds=cold,
        rebuild_seconds=rebuild,
    )


def _copy_tree(src: Path, dst: Path) -> None:
    """The committed tree (HEAD), not the work tree: what is measured is what is built."""
    dst.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(src), "archive", "--format=tar", "HEAD"],
        stdout=subprocess.PIPE,
        check=False,
    )
    if archive.returncode != 0:
        raise ToolError(f"git archive HEAD in {src} failed (exit {archive.returncode})")
    subprocess.run(["tar", "-x", "-C", str(dst)], input=archive.stdout, check=True)


# ---------------------------------------------------------------------------------------
# The table


@dataclass
class Results:
    machine: dict[str, str] = field(default_factory=dict)
    micro: list[Comparison] = field(default_factory=list)
    micro_rounds: int = 0
    e2e: list[E2ESummary] = field(default_factory=list)
    image: ImageNumbers | None = None
    image_error: str = ""  # why the image part failed, when it did
    commands: list[str] = field(default_factory=list)


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    go_version = _run(["go", "env", "GOVERSION"], cwd=PLUGIN).strip()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "go": go_version,
        "load average at start": load,
    }


TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "ClaimMapping/RS256/repeated": ("at least 20x faster", lambda r: 1 / r >= 20),
    "ClaimMapping/ES256/repeated": ("at least 20x faster", lambda r: 1 / r >= 20),
    "Authorize/allow-mix": ("within 1.5x", lambda r: r <= 1.5),
}


def render(results: Results) -> str:
    lines = ["Measured on: " + "; ".join(f"{k} {v}" for k, v in results.machine.items()), ""]
    if results.micro:
        lines += [
            f"### Micro-benchmarks (median of {results.micro_rounds} rounds)",
            "",
            "| benchmark | ours ns/op | upstream ns/op | ours B/op | upstream B/op "
            "| ours allocs/op | upstream allocs/op | ours/upstream time | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for c in results.micro:
            work = c.work.removeprefix("Benchmark")
            target = ""
            if work in TARGETS:
                text, ok = TARGETS[work]
                target = f"{text}: {'met' if ok(c.ratio) else 'MISSED'}"
            if work == "Authorize/allow-mix":
                zero = c.ours_allocs == 0
                target += f"; 0 allocs: {'met' if zero else 'MISSED'}"
            lines.append(
                f"| {work} | {_num(c.ours_ns)} | {_num(c.upstream_ns)} | {_num(c.ours_bytes)} "
                f"| {_num(c.upstream_bytes)} | {_num(c.ours_allocs)} | {_num(c.upstream_allocs)} "
                f"| {_ratio(c.ratio)} | {target} |"
            )
        lines.append("")
    if results.e2e:
        lines += [
            "### End-to-end load (median of the interleaved rounds)",
            "",
            "| load | callers | auth calls/s | no-auth calls/s | auth/no-auth throughput "
            "| auth p50 ms | no-auth p50 ms | auth p99 ms | no-auth p99 ms "
            "| failed calls auth / no-auth | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for e in results.e2e:
            target = ""
            if e.callers == 50:
                target = f">= 0.97: {'met' if e.ratio >= 0.97 else 'MISSED'}"
            lines.append(
                f"| {e.workload} | {e.callers} | {e.auth_throughput:.0f} "
                f"| {e.noauth_throughput:.0f} | {e.ratio:.3f} | {e.auth_p50_ms:.2f} "
                f"| {e.noauth_p50_ms:.2f} | {e.auth_p99_ms:.2f} | {e.noauth_p99_ms:.2f} "
                f"| {e.auth_errors} / {e.noauth_errors} | {target} |"
            )
        lines.append("")
    if results.image:
        im = results.image
        share = im.rebuild_seconds / im.cold_seconds
        lines += [
            "### Image",
            "",
            "| measure | value | target |",
            "|---|---:|---|",
            f"| image size over its base ({im.base_image}) | {im.added_bytes / 1e6:.1f} MB | |",
            f"| cold build (no layer cache, empty Go caches) | {im.cold_seconds:.0f} s | |",
            f"| rebuild after editing one .go file | {im.rebuild_seconds:.0f} s "
            f"({share:.2f} of cold) | at most 1/3 of cold: "
            f"{'met' if share <= 1 / 3 else 'MISSED'} |",
            "",
        ]
    if results.image_error:
        lines += ["### Image", "", f"Not measured: {results.image_error}", ""]
    if results.commands:
        lines += ["Commands run:", ""] + [f"    {c}" for c in results.commands] + [""]
    return "\n".join(lines)


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if x != int(x) else f"{int(x)}"


def _ratio(r: float) -> str:
    if r < 1:
        return f"{r:.4f} ({1 / r:,.1f}x faster)"
    return f"{r:.2f} ({r:.2f}x slower)"


def update_doc(doc: Path, table: str) -> None:
    text = doc.read_text()
    start, end = text.find(BEGIN_MARK), text.find(END_MARK)
    if start < 0 or end < start:
        raise ToolError(f"{doc}: the markers {BEGIN_MARK!r} and {END_MARK!r} are missing")
    doc.write_text(text[: start + len(BEGIN_MARK)] + "\n\n" + table + "\n" + text[end:])


def _run(command: list[str], cwd: Path, echo: bool = False) -> str:
    try:
        proc = subprocess.run(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except FileNotFoundError:
        raise ToolError(f"{command[0]} is not installed") from None
    if echo or proc.returncode != 0:
        print(proc.stdout, flush=True)
    if proc.returncode != 0:
        raise ToolError(f"`{' '.join(command)}` failed with exit code {proc.returncode}")
    return proc.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="micro-benchmark rounds [5]")
    parser.add_argument("--benchtime", default="1s", help="go test -benchtime per round [1s]")
    parser.add_argument("--bench", default=".", help="go test -bench pattern [.]")
    parser.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end load")
    parser.add_argument(
        "--e2e-from", type=Path, help="summarize this e2e.json of an earlier run instead"
    )
    parser.add_argument("--e2e-duration", default="8s", help="measured time per run [8s]")
    parser.add_argument("--e2e-warmup", default="2s", help="unmeasured load before a run [2s]")
    parser.add_argument("--e2e-rounds", type=int, default=3, help="rounds per mode [3]")
    parser.add_argument("--e2e-callers", default="10,50", help="concurrent callers [10,50]")
    parser.add_argument("--image", action="store_true", help="also measure the image (slow)")
    parser.add_argument("--local-bases", action="store_true", help="image: local base images")
    parser.add_argument("--builder-image", help="image: Go builder image (as invoke build)")
    parser.add_argument("--temporal-image", help="image: runtime base image (as invoke build)")
    parser.add_argument(
        "--image-name", default="localhost/hardened-temporal/bench", help="image: name to build"
    )
    parser.add_argument("--update-docs", action="store_true", help=f"write the table into {DOC}")
    args = parser.parse_args(argv)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results = Results(machine=machine_info())
    try:
        if not args.no_micro:
            rounds = run_micro(args.rounds, args.benchtime, args.bench)
            results.micro = compare(rounds)
            results.micro_rounds = len(rounds)
            results.commands.append(
                f"go test -run '^$' -bench '{args.bench}' -benchmem -count 1 "
                f"-benchtime {args.benchtime} ./authz/   # x{args.rounds}, in plugin/"
            )
        if args.e2e_from:
            results.e2e = summarize_e2e(load_e2e_runs(args.e2e_from))
            results.commands.append(f"(end-to-end numbers read from {args.e2e_from})")
        elif not args.no_e2e:
            runs = run_e2e(
                RESULTS_DIR / "e2e.json",
                args.e2e_duration,
                args.e2e_warmup,
                args.e2e_rounds,
                args.e2e_callers,
            )
            results.e2e = summarize_e2e(runs)
            results.commands.append(
                "go test -tags e2ebench -run '^TestEndToEndLoad$' ./bench/ -args "
                f"-e2e.duration={args.e2e_duration} -e2e.warmup={args.e2e_warmup} "
                f"-e2e.rounds={args.e2e_rounds} -e2e.callers={args.e2e_callers}   # in plugin/"
            )
    except ToolError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.image:
        try:
            results.image = measure_image(
                args.local_bases, args.image_name, args.builder_image, args.temporal_image
            )
        except ToolError as err:  # keep the numbers already measured
            print(f"error: image: {err}", file=sys.stderr)
            results.image_error = str(err).splitlines()[0]
        else:
            image_args = ["--image"]
            if args.local_bases:
                image_args.append("--local-bases")
            if args.builder_image:
                image_args.append(f"--builder-image {args.builder_image}")
            if args.temporal_image:
                image_args.append(f"--temporal-image {args.temporal_image}")
            results.commands.append(
                "python -m tooling.bench " + " ".join(image_args) + "  # cold, then rebuild"
            )

    table = render(results)
    (RESULTS_DIR / "results.md").write_text(table + "\n")
    (RESULTS_DIR / "results.json").write_text(json.dumps(asdict(results), indent=2) + "\n")
    print(table)
    if args.update_docs:
        try:
            update_doc(DOC, table)
        except ToolError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"wrote the table into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
