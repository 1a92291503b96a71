#!/usr/bin/env bash
# Make this host ready to build and test the image: a Docker engine that answers,
# the buildx CLI plugin, and (on Debian, as root) the packages the tests use.
#
# Idempotent: every step checks first and does nothing when its thing is already there.
# Usage: scripts/setup-host.sh        (called by ./dev and .ci/run)
set -euo pipefail

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/hardened-temporal"
DOCKERD_LOG="${DOCKERD_LOG:-$CACHE_DIR/dockerd.log}"
BUILDX_PLUGIN_DIR=/usr/libexec/docker/cli-plugins

say() { printf 'setup-host: %s\n' "$*"; }
die() { printf 'setup-host: error: %s\n' "$*" >&2; exit 1; }

is_debian_root() { [ -r /etc/debian_version ] && [ "$(id -u)" -eq 0 ]; }

# --- Debian packages: the engine, the local registry, debootstrap (local base images) and
# busybox-static (a 2 MB image the docker tests build on) ---
install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' \
        || missing+=(busybox-static)
    if [ "${#missing[@]}" -eq 0 ]; then
        say "packages present: docker.io docker-registry debootstrap busybox-static"
        return
    fi
    is_debian_root || die "missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]})"
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# --- buildx: Debian bookworm has no docker-buildx, trixie's works (needs only libc6 >= 2.34) ---
install_buildx() {
    if docker buildx version >/dev/null 2>&1; then
        say "buildx present: $(docker buildx version)"
        return
    fi
    is_debian_root || die "docker buildx is missing: install the buildx CLI plugin (https://docs.docker.com/build/install-buildx/)"
    mkdir -p "$CACHE_DIR"
    local deb
    deb="$(find "$CACHE_DIR" -maxdepth 1 -name 'docker-buildx_*.deb' | sort | tail -n 1)"
    if [ -z "$deb" ]; then
        say "fetching docker-buildx from Debian trixie (private apt dir, the host's sources stay untouched)"
        local apt_dir="$CACHE_DIR/apt-trixie"
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
            >"$apt_dir/sources.list"
        local apt_opts=(
            -o "Dir::Etc::SourceList=$apt_dir/sources.list"
            -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$apt_dir/lists"
            -o "Dir::Cache=$apt_dir"
            -o "Dir::Cache::Archives=$apt_dir/archives"
            -o "APT::Get::List-Cleanup=0"
        )
        apt-get "${apt_opts[@]}" update -qq
        (cd "$CACHE_DIR" && apt-get "${apt_opts[@]}" download docker-buildx)
        deb="$(find "$CACHE_DIR" -maxdepth 1 -name 'docker-buildx_*.deb' | sort | tail -n 1)"
        [ -n "$deb" ] || die "apt-get download docker-buildx produced no .deb in $CACHE_DIR"
    fi
    say "installing buildx from $deb into $BUILDX_PLUGIN_DIR"
    local unpack
    unpack="$(mktemp -d)"
    dpkg-deb -x "$deb" "$unpack"
    local plugin
    plugin="$unpack/usr/libexec/docker/cli-plugins/docker-buildx"
    [ -x "$plugin" ] || { rm -rf "$unpack"; die "$deb holds no docker-buildx binary"; }
    mkdir -p "$BUILDX_PLUGIN_DIR"
    install -m 0755 "$plugin" "$BUILDX_PLUGIN_DIR/docker-buildx"
    rm -rf "$unpack"
    docker buildx version >/dev/null 2>&1 || die "buildx installed in $BUILDX_PLUGIN_DIR but 'docker buildx version' still fails"
    say "buildx ready: $(docker buildx version)"
}

# --- the engine: start dockerd in the background when nothing answers ---
start_engine() {
    if docker info >/dev/null 2>&1; then
        say "Docker engine answers"
        return
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
    fi
    [ "$(id -u)" -eq 0 ] || die "Docker engine not running: start it (sudo dockerd, or systemctl start docker)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # No iptables: containers use --network host, so nothing needs NAT (and the sandbox forbids it).
    say "starting dockerd --iptables=false --ip6tables=false (log: $DOCKERD_LOG)"
    # setsid: the engine outlives the shell (or tool job) that started it.
    setsid nohup dockerd --iptables=false --ip6tables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$CACHE_DIR/dockerd.pid"
    for _ in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            say "Docker engine ready (dockerd pid $pid)"
            return
        fi
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$DOCKERD_LOG" >&2; die "dockerd exited; see $DOCKERD_LOG"; }
        sleep 1
    done
    tail -n 20 "$DOCKERD_LOG" >&2
    die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
}

mkdir -p "$CACHE_DIR"
install_packages
install_buildx
start_engine
