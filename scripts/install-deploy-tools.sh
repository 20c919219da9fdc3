#!/usr/bin/env bash
# Installs what the deploy tests (test/*/deploy-*.test.ts) run, into .tools/bin (git-ignored):
#
#   kustomize v5.8.1   built from the Go module proxy; the module's checksum is pinned below
#                      (it matches the checksum-database-verified go.sum of other projects) and its
#                      dependencies are verified against kustomize's own go.sum.
#   compose-config     deploy/tools/compose-config: Docker Compose's own loader (compose-go),
#                      so the Compose files are checked without a Docker engine.
#   tini, prometheus   Debian packages: tini is the image's PID 1, prometheus brings promtool
#                      and the server the end-to-end test scrapes with (needs root or sudo).
#
# Needs Go >= 1.24; without one, the Go toolchain itself comes from the module proxy
# (golang.org/toolchain, sha256 pinned below). Safe to run again: finished steps are skipped.
#
#   scripts/install-deploy-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.tools/bin"
mkdir -p "$BIN"

KUSTOMIZE_MODULE=sigs.k8s.io/kustomize/kustomize/v5
KUSTOMIZE_VERSION=v5.8.1
KUSTOMIZE_SUM='h1:Pgsg5psubpVEy7Nf6S89PARg5VmmWUC1l9dC6Dl4PG0='
GO_MIN_MINOR=24
GO_FALLBACK=go1.24.13
GO_FALLBACK_SHA256=d2b048367a3d1a748b87f756fa06df12ce3b419e1d5f2a3612acb8950d615f9f

export GOTOOLCHAIN=local
export GOFLAGS=-mod=readonly
CACHE="${SENTIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sentio-gateway}"

log() { echo "install-deploy-tools: $*" >&2; }

# --- Debian packages ---------------------------------------------------------------------------
missing=()
[ -x /usr/bin/tini ] || missing+=(tini)
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- a Go toolchain ------------------------------------------------------------------------------
go_ok() { # $1: a go binary; true when it is >= 1.$GO_MIN_MINOR
  local v; v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}; [ "${v%%.*}" -gt 1 ] || [ "$(echo "$v" | cut -d. -f2)" -ge "$GO_MIN_MINOR" ]
}
GO=
for candidate in "$(command -v go || true)" /usr/local/go/bin/go "$CACHE/$GO_FALLBACK/bin/go"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && go_ok "$candidate"; then GO=$candidate; break; fi
done
if [ -z "$GO" ]; then
  log "no Go >= 1.$GO_MIN_MINOR: fetching $GO_FALLBACK from $GOPROXY"
  zip="$CACHE/$GO_FALLBACK.zip"
  mkdir -p "$CACHE"
  curl -fsSL -o "$zip" "${GOPROXY%%,*}/golang.org/toolchain/@v/v0.0.1-$GO_FALLBACK.linux-amd64.zip"
  echo "$GO_FALLBACK_SHA256  $zip" | sha256sum -c --quiet -
  rm -rf "$CACHE/$GO_FALLBACK.tmp" "$CACHE/$GO_FALLBACK"
  mkdir -p "$CACHE/$GO_FALLBACK.tmp"
  unzip -q "$zip" -d "$CACHE/$GO_FALLBACK.tmp"
  mv "$CACHE/$GO_FALLBACK.tmp/golang.org/toolchain@v0.0.1-$GO_FALLBACK.linux-amd64" "$CACHE/$GO_FALLBACK"
  rm -rf "$CACHE/$GO_FALLBACK.tmp" "$zip"
  chmod +x "$CACHE/$GO_FALLBACK"/bin/* "$CACHE/$GO_FALLBACK"/pkg/tool/*/*
  GO="$CACHE/$GO_FALLBACK/bin/go"
fi
log "using $("$GO" version)"

# --- kustomize -----------------------------------------------------------------------------------
if [ "$("$BIN/kustomize" version 2>/dev/null || true)" != "$KUSTOMIZE_VERSION" ]; then
  log "building kustomize $KUSTOMIZE_VERSION"
  # The checksum database may be unreachable: check the one module outside kustomize's go.sum ourselves.
  sum=$(cd "$CACHE" 2>/dev/null || cd /tmp; GONOSUMDB=$KUSTOMIZE_MODULE GOFLAGS= "$GO" mod download -json "$KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')
  if [ "$sum" != "$KUSTOMIZE_SUM" ]; then
    log "checksum mismatch for $KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION: got '$sum', want '$KUSTOMIZE_SUM'"
    exit 1
  fi
  (cd /tmp && GONOSUMDB=$KUSTOMIZE_MODULE GOFLAGS= GOBIN="$BIN" "$GO" install "$KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION")
fi

# --- compose-config ------------------------------------------------------------------------------
src="$ROOT/deploy/tools/compose-config"
if [ ! -x "$BIN/compose-config" ] || [ -n "$(find "$src" -newer "$BIN/compose-config" -type f)" ]; then
  log "building compose-config"
  (cd "$src" && "$GO" build -trimpath -o "$BIN/compose-config" .)
fi

log "ready: $("$BIN/kustomize" version), compose-config, tini, $(promtool --version 2>&1 | head -1)"
