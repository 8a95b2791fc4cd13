#!/usr/bin/env bash
# The wheel outside the repository: build it, install it into a fresh venv, and run `latentwalk demo --quick`
# from an empty folder, with an empty cache and (where `unshare` may cut it) no network. Run by `make wheel`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# an sdist, then the wheel from it: nothing left in a build/ folder of the checkout can slip in
.venv/bin/python -m build --outdir "$work/dist" . > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install -q torch==2.13.0                       # first, alone: the CPU build on disk
"$work/venv/bin/pip" install -q -c constraints.txt "$wheel"
mkdir "$work/empty" "$work/cache"
offline=()
if unshare -rn true 2>/dev/null; then offline=(unshare -rn); else echo "unshare unavailable: the network stays up"; fi
(cd "$work/empty" && HOME="$work/empty" LATENTWALK_CACHE="$work/cache" \
    ${offline[@]+"${offline[@]}"} "$work/venv/bin/latentwalk" demo --quick --out demo | tail -n 3)
test -s "$work/empty/demo/report.html"
test -z "$(ls -A "$work/cache")"                                      # nothing was downloaded
echo "wheel: $(basename "$wheel"), $(du -k "$wheel" | cut -f1) KB; installed into a fresh venv, demo --quick ran offline"
