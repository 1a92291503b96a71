"""Local base images for machines that cannot pull from a container registry.

The Containerfile's defaults are `golang:<go>` (builder) and `temporalio/server:<temporal>`
(runtime). Where no registry is reachable, `ensure_local_bases` makes stand-ins from
Debian bookworm (debootstrap) and the Go toolchain this machine already has:

    local/golang:<go>                    Go at /usr/local/go, GOPATH=/go, WORKDIR /go,
                                         GOTOOLCHAIN=local: the official golang image's contract;
                                         it also trusts this machine's extra CA certificates
                                         (/usr/local/share/ca-certificates), so that `go mod
                                         download` works where HTTPS egress is intercepted
    local/temporal-server-base:<temporal>
                                         ca-certificates, tzdata, user temporal (uid/gid 1000),
                                         /etc/temporal owned by it, WORKDIR /etc/temporal:
                                         the temporalio/server image's contract

They are never the default and never published (the `local/` prefix has no registry).
Each is built only when the engine does not have it yet; the debootstrap root file
system is cached as a tarball under ~/.cache/hardened-temporal/rootfs.

    python -m tooling.local_bases            # build what is missing, print the two names
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tooling.errors import ToolError

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Both images need these; installing them in debootstrap saves an apt run per image.
ROOTFS_PACKAGES = ("ca-certificates", "tzdata")
TEMPORAL_UID = 1000
# Extra CAs of this machine (Debian's place for them), trusted by the builder image only.
HOST_EXTRA_CAS = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class LocalBases:
    builder_image: str
    runtime_image: str


def builder_image_name(go_version: str) -> str:
    return f"local/golang:{go_version}"


def runtime_image_name(temporal_version: str) -> str:
    return f"local/temporal-server-base:{temporal_version}"


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hardened-temporal" / "rootfs"


def ensure_local_bases(go_version: str, temporal_version: str) -> LocalBases:
    """Build the local builder and runtime base images that the engine lacks; name them."""
    bases = LocalBases(builder_image_name(go_version), runtime_image_name(temporal_version))
    missing_builder = not _image_exists(bases.builder_image)
    missing_runtime = not _image_exists(bases.runtime_image)
    if missing_builder:
        goroot = _machine_goroot(go_version)  # fail before the slow debootstrap
    if missing_builder or missing_runtime:
        rootfs = ensure_rootfs_tarball()
    if missing_builder:
        _build_builder(rootfs, goroot, bases.builder_image)
    if missing_runtime:
        _build_runtime(rootfs, bases.runtime_image)
    return bases


def _run(command: list[str], what: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]
    except FileNotFoundError as err:
        raise ToolError(f"{what}: {command[0]} not found on PATH") from err
    except subprocess.CalledProcessError as err:
        output = (err.stdout or b"") + (err.stderr or b"")
        tail = "\n".join(output.decode(errors="replace").splitlines()[-20:])
        raise ToolError(
            f"{what} failed ({' '.join(command)}, exit {err.returncode}):\n{tail}"
        ) from err


def _image_exists(name: str) -> bool:
    try:
        result = subprocess.run(
            ["docker", "image", "inspect", name], capture_output=True, check=False
        )
    except FileNotFoundError as err:
        raise ToolError("docker not found on PATH: install a Docker engine and CLI") from err
    return result.returncode == 0


def _machine_goroot(go_version: str) -> Path:
    """GOROOT of the machine's Go, which must be exactly go<go_version>."""
    go = shutil.which("go")
    if go is None:
        raise ToolError(
            f"local builder image needs Go {go_version} on this machine, but `go` is not on PATH"
        )
    reported = _run([go, "env", "GOVERSION", "GOROOT"], "go env").stdout.decode().split()
    if len(reported) != 2 or reported[0] != f"go{go_version}":
        raise ToolError(
            f"local builder image must carry Go {go_version} (versions.toml `go`, or GO_VERSION), "
            f"but {go} is {reported[0] if reported else 'unknown'}: install go{go_version} or "
            "build with the upstream golang image"
        )
    return Path(reported[1])


def ensure_rootfs_tarball() -> Path:
    """A Debian minbase root file system (with ROOTFS_PACKAGES) as a cached tarball."""
    tarball = cache_dir() / f"debian-{DEBIAN_SUITE}-minbase.tar"
    if tarball.is_file():
        return tarball
    if os.geteuid() != 0:
        raise ToolError("building local base images needs root (debootstrap and chroot)")
    if shutil.which("debootstrap") is None:
        raise ToolError(
            "debootstrap not found: install it (Debian: apt-get install debootstrap, "
            "or run scripts/setup-host.sh)"
        )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=tarball.parent) as work:
        root = Path(work) / "root"
        began = time.monotonic()
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(ROOTFS_PACKAGES)}",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ],
            f"debootstrap {DEBIAN_SUITE} from {DEBIAN_MIRROR}",
        )
        # Smaller and reproducible-ish: no package caches, lists or logs in the image.
        for leftover in ("var/cache/apt", "var/lib/apt/lists", "var/log"):
            for child in (root / leftover).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        partial = tarball.with_suffix(".part")
        _run(["tar", "-C", str(root), "-cf", str(partial), "."], "packing the root file system")
        partial.rename(tarball)
        print(
            f"local bases: debootstrap {DEBIAN_SUITE} took {time.monotonic() - began:.0f} s",
            file=sys.stderr,
        )
    return tarball


def _unpacked(rootfs: Path, work: Path) -> Path:
    root = work / "root"
    root.mkdir()
    _run(["tar", "-C", str(root), "-xf", str(rootfs)], f"unpacking {rootfs}")
    return root


def _import(root: Path, name: str, changes: list[str]) -> None:
    """`tar -C root -c . | docker import --change ... - name`."""
    command = ["docker", "import"]
    for change in changes:
        command += ["--change", change]
    command += ["-", name]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    try:
        _run(command, f"docker import of {name}", stdin=tar.stdout)
    finally:
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        raise ToolError(
            f"packing the root file system of {name} failed (tar exit {tar.returncode})"
        )


def _build_builder(rootfs: Path, goroot: Path, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="builder-", dir=rootfs.parent) as work:
        root = _unpacked(rootfs, Path(work))
        shutil.copytree(goroot, root / "usr/local/go", symlinks=True)
        extra_cas = sorted(HOST_EXTRA_CAS.rglob("*.crt")) if HOST_EXTRA_CAS.is_dir() else []
        if extra_cas:
            target = root / "usr/local/share/ca-certificates"
            target.mkdir(parents=True, exist_ok=True)
            for ca in extra_cas:
                shutil.copy2(ca, target / ca.name)
            _run(["chroot", str(root), "update-ca-certificates"], "update-ca-certificates")
        for sub in ("src", "bin"):
            (root / "go" / sub).mkdir(parents=True, exist_ok=True)
        (root / "go").chmod(0o1777)
        _import(
            root,
            name,
            [
                # What the official golang image sets.
                "ENV GOLANG_VERSION=" + name.split(":", 1)[1],
                "ENV GOTOOLCHAIN=local",
                "ENV GOPATH=/go",
                "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:"
                "/usr/sbin:/usr/bin:/sbin:/bin",
                "WORKDIR /go",
            ],
        )


def _build_runtime(rootfs: Path, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="runtime-", dir=rootfs.parent) as work:
        root = _unpacked(rootfs, Path(work))
        uid = str(TEMPORAL_UID)
        _run(["chroot", str(root), "groupadd", "--gid", uid, "temporal"], "groupadd temporal")
        _run(
            [
                "chroot", str(root), "useradd", "--uid", uid, "--gid", uid,
                "--home-dir", "/etc/temporal", "--no-create-home",
                "--shell", "/usr/sbin/nologin", "temporal",
            ],
            "useradd temporal",
        )  # fmt: skip
        home = root / "etc" / "temporal"
        home.mkdir(exist_ok=True)
        os.chown(home, TEMPORAL_UID, TEMPORAL_UID)
        _import(
            root,
            name,
            [
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "WORKDIR /etc/temporal",
                "USER temporal",
            ],
        )


def main() -> int:
    from tooling.versions import load_versions  # the one source of truth for versions

    versions = load_versions(Path(__file__).resolve().parent.parent)
    try:
        bases = ensure_local_bases(versions.go, versions.temporal)
    except ToolError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(bases.builder_image)
    print(bases.runtime_image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
