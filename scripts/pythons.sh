#!/usr/bin/env bash
# Makes today's CPythons on a Debian machine, as root, for parlab's tests and figures:
#
#   - a free-threaded CPython 3.13.5t and the GIL build of the same source (its fair baseline),
#     built from the upstream tarball that Debian's registry serves in the `python3.13` source
#     package of its `trixie` suite;
#   - a root of Debian's unstable suite (`sid`, made by debootstrap) with python3.14 and python3.15.
#
# Everything goes into one folder: $PARLAB_PYTHONS, or ~/.cache/parlab/pythons. The package
# address comes from the machine's own apt sources. Running it again reuses what is there and
# checks it. Nothing in `cargo test` needs it; the tests that use these interpreters skip where
# they are absent.
#
#   scripts/pythons.sh                 make (or check) the interpreters, then list them
#   scripts/pythons.sh list            list what is made, one `name path` line each
#   scripts/pythons.sh chroot CMD...   run CMD inside the unstable root (proc and /dev mounted for
#                                      the command, unmounted after); the root's / is the cwd
#
# Exit status: 0 when every interpreter is there and checked; 3 when this machine cannot make
# them (not root, not Debian, no network to its registry), with one line saying why; 1 when a
# step failed.
set -euo pipefail

dir="${PARLAB_PYTHONS:-$HOME/.cache/parlab/pythons}"
version=3.13.5
ft="$dir/$version-t"     # --disable-gil
gil="$dir/$version"      # the same source with the GIL
sid="$dir/sid"           # Debian unstable: python3.14, python3.15

say() { printf 'pythons.sh: %s\n' "$*" >&2; }
cannot() {
  say "cannot make the interpreters here: $*"
  exit 3
}

list() {
  [[ -x $ft/bin/python3.13t ]] && echo "3.13.5t $ft/bin/python3.13t"
  [[ -x $gil/bin/python3.13 ]] && echo "3.13.5 $gil/bin/python3.13"
  for v in 3.14 3.15; do
    [[ -x $sid/usr/bin/python$v ]] && echo "$v $sid/usr/bin/python$v (inside $sid)"
  done
  return 0
}

# The first `deb` address of the machine's own sources whose suites are Debian's own (not the
# security archive), from deb822 files or the one-line format.
mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '
      /^URIs:/ { u = $2 }
      /^Suites:/ { if ($0 !~ /-security/ && u != "") { print u; exit } }
      /^$/ { u = "" }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk '$1 == "deb" && $0 !~ /-security/ {
      for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  return 1
}

mounted=()
unmount() {
  local m
  for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
  mounted=()
}
trap unmount EXIT

run_in_chroot() {
  [[ -x $sid/usr/bin/apt-get ]] || cannot "no unstable root at $sid (run scripts/pythons.sh)"
  if ! mountpoint -q "$sid/proc"; then
    mount -t proc proc "$sid/proc" && mounted+=("$sid/proc")
  fi
  if ! mountpoint -q "$sid/dev"; then
    mount --bind /dev "$sid/dev" && mounted+=("$sid/dev")
  fi
  chroot "$sid" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
    TERM="${TERM:-dumb}" COLUMNS="${COLUMNS:-100}" "$@"
}

case "${1:-make}" in
  list) list; exit 0 ;;
  chroot) shift; run_in_chroot "$@"; exit $? ;;
  make) ;;
  *) say "unknown command '$1': one of make, list, chroot"; exit 2 ;;
esac

[[ $(id -u) == 0 ]] || cannot "it needs root (apt-get, debootstrap, chroot)"
command -v apt-get >/dev/null || cannot "no apt-get: not a Debian machine"
address=$(mirror) || cannot "no Debian address in /etc/apt/sources.list*"
mkdir -p "$dir"

check() { # python, whether the GIL must be off (1) or on (0), the version wanted
  "$1" - "$2" "$3" <<'EOF'
import sys, sysconfig
want_off, version = sys.argv[1] == "1", sys.argv[2]
built = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
on = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
assert sys.version.split()[0] == version, f"version {sys.version.split()[0]}, wanted {version}"
assert built == want_off and on != want_off, f"free-threaded build {built}, GIL on {on}"
EOF
}

# --- 3.13.5 and 3.13.5t from the trixie source package ---------------------------------------
if ! { [[ -x $ft/bin/python3.13t ]] && check "$ft/bin/python3.13t" 1 $version &&
       [[ -x $gil/bin/python3.13 ]] && check "$gil/bin/python3.13" 0 $version; }; then
  src="$dir/src"
  tarball="$src/python3.13_$version.orig.tar.xz"
  if [[ ! -f $tarball ]]; then
    say "fetching the python3.13 $version source package (suite trixie) from $address"
    apt_dir="$src/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $address trixie main" \
      >"$apt_dir/sources.list"
    opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o APT::Sandbox::User=root -qq)
    apt-get "${opts[@]}" update || cannot "apt-get update of suite trixie failed"
    (cd "$src" && apt-get "${opts[@]}" source --download-only python3.13 >/dev/null) ||
      cannot "the python3.13 source package is not served"
    [[ -f $tarball ]] || cannot "the source package holds no python3.13_$version.orig.tar.xz"
  fi
  if [[ ! -d $src/Python-$version ]]; then
    tar -C "$src" -xf "$tarball"
  fi
  build() { # prefix, extra configure flags...
    local prefix=$1 b
    shift
    b="$src/build-$(basename "$prefix")"
    rm -rf "$b" && mkdir -p "$b"
    say "building $prefix ($*); a few minutes"
    (cd "$b" && "$src/Python-$version/configure" --prefix="$prefix" --without-ensurepip "$@" \
      >configure.log 2>&1 && make -j"$(nproc)" >make.log 2>&1 && make install >install.log 2>&1) ||
      { say "the build of $prefix failed: see $b/*.log"; exit 1; }
  }
  [[ -x $ft/bin/python3.13t ]] && check "$ft/bin/python3.13t" 1 $version || build "$ft" --disable-gil
  [[ -x $gil/bin/python3.13 ]] && check "$gil/bin/python3.13" 0 $version || build "$gil"
  check "$ft/bin/python3.13t" 1 $version || { say "$ft: not a free-threaded $version"; exit 1; }
  check "$gil/bin/python3.13" 0 $version || { say "$gil: not a GIL build of $version"; exit 1; }
fi

# --- 3.14 and 3.15 in a root of Debian unstable ------------------------------------------------
if ! [[ -x $sid/usr/bin/python3.14 && -x $sid/usr/bin/python3.15 ]]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null ||
    cannot "debootstrap cannot be installed"
  if [[ ! -x $sid/usr/bin/apt-get ]]; then
    say "making a root of Debian unstable in $sid (debootstrap, about 250 MB)"
    rm -rf "$sid"
    debootstrap --variant=minbase sid "$sid" "$address" >"$dir/debootstrap.log" 2>&1 ||
      cannot "debootstrap of sid failed: see $dir/debootstrap.log"
  fi
  say "installing python3.14 and python3.15 in $sid"
  run_in_chroot apt-get install -y -qq python3.14 python3.15 >"$dir/chroot-apt.log" 2>&1 ||
    cannot "python3.14 and python3.15 could not be installed in $sid: see $dir/chroot-apt.log"
fi
for v in 3.14 3.15; do
  run_in_chroot "/usr/bin/python$v" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$v'" ||
    { say "$sid/usr/bin/python$v is not CPython $v"; exit 1; }
done

list
