#!/usr/bin/env bash
# Installs what the test suite needs beyond Node's npm, and nothing when it is all present:
#   Debian: python3-zmq (pyzmq on libzmq, the dependable interop peer; /usr/bin/python3 only),
#           libzmq3-dev (C peer and bench harness), gcc + make + liburing-dev (native transport),
#           tmux (the CLI's terminal test), netcat-openbsd (nc, for the kernel line-protocol test), chromium (the browser suite, tests/browser/)
#   npm:    zeromq@6.8.0 for the Node interop peer, in tests/interop/peers/node_modules (git-ignored);
#           bun (the runtime: its package ships the binary in an optional dependency), esbuild and
#           typescript for the Node/Bun suites and `deno task build:npm`, ws (the ws:// server
#           under Node and Bun, and the client under Node 20), and playwright-core (drives
#           /usr/bin/chromium, downloads no browser) for the browser suite, in tools/node_modules
# Idempotent and quick when everything is there (dpkg-query and test -e, no network).
# Run as root to install Debian packages; otherwise it uses `sudo -n` if that works, or says
# exactly what to run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$root/tests/interop/peers"
zeromq_version="6.8.0"
# Pinned tools for the Node and Bun suites (tests/runtimes/) and the npm build (tools/build_npm.ts).
# @noble/*: the versions deno.json maps, for bundling (tools/build_npm.ts checks they agree).
# ws: imported at run time under Node and Bun only; tools/build_npm.ts pins the same version.
tool_packages=(bun@1.4.5 esbuild@0.28.2 typescript@5.9.3 @noble/ciphers@2.4.0 @noble/curves@2.4.0 ws@8.23.0)
# The browser suite (tests/browser/) bundles with the esbuild above and drives Chromium with this.
browser_packages=(playwright-core@1.65.1)
debs=(python3-zmq libzmq3-dev gcc make liburing-dev tmux netcat-openbsd chromium)
start=$(date +%s%N)

log() { printf 'setup: %s\n' "$*" >&2; }

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${debs[@]}"; do installed "$p" || missing+=("$p"); done
else
  log "dpkg-query not found: not a Debian system, skipping the Debian packages (${debs[*]})"
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    log "missing Debian packages: ${missing[*]}"
    log "install them as root, then run the tests again:"
    log "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! /usr/bin/python3 -c 'import zmq' 2>/dev/null; then
  log "/usr/bin/python3 cannot import zmq although python3-zmq is installed"
  exit 1
fi

zeromq_pkg="$peers/node_modules/zeromq/package.json"
if ! { [ -e "$zeromq_pkg" ] && grep -q "\"version\": \"$zeromq_version\"" "$zeromq_pkg"; }; then
  log "installing npm:zeromq@$zeromq_version into tests/interop/peers/node_modules"
  # The npm package ships prebuilt addons (build/linux/x64/...), so no install script and no
  # download beyond the npm registry is needed. --no-save keeps package.json/lock files out of
  # the tree; only node_modules/ (git-ignored) is written.
  npm install --prefix "$peers" --no-save --no-package-lock --ignore-scripts --no-audit \
    --no-fund --loglevel=error "zeromq@$zeromq_version" >/dev/null
fi
if ! (cd "$peers" && node -e 'require("zeromq")') 2>/dev/null; then
  log "node cannot load zeromq@$zeromq_version from $peers/node_modules"
  exit 1
fi

tool_missing=()
for spec in "${tool_packages[@]}" "${browser_packages[@]}"; do
  pkg="$root/tools/node_modules/${spec%@*}/package.json"
  grep -q "\"version\": \"${spec##*@}\"" "$pkg" 2>/dev/null || tool_missing+=("$spec")
done
if [ "${#tool_missing[@]}" -gt 0 ]; then
  log "installing ${tool_missing[*]} into tools/node_modules"
  # One npm call names every package kept in tools/node_modules: npm removes what a call into a
  # prefix without package.json does not name. Scripts run: bun's postinstall links the binary
  # from its platform package (@oven/bun-*); playwright-core's install downloads nothing.
  npm install --prefix "$root/tools" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "${tool_packages[@]}" "${browser_packages[@]}" >/dev/null
fi
for bin in bun esbuild tsc; do
  if ! "$root/tools/node_modules/.bin/$bin" --version >/dev/null 2>&1; then
    log "tools/node_modules/.bin/$bin does not run"
    exit 1
  fi
done

elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "${#missing[@]}" -gt 0 ] || [ "$elapsed" -gt 2000 ]; then log "done in ${elapsed} ms"; fi
