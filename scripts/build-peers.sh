#!/usr/bin/env bash
# Build the Go reference peers (op-geth `geth`, `op-node`, `op-batcher`,
# `op-proposer`) from the Go module proxy, at the versions pinned in
# interop/go/go.mod + go.sum, into a cache OUTSIDE the repository:
#
#   ${PYOP_PEERS_CACHE:-$HOME/.cache/pyop/peers}/<optimism-version>/bin/
#
# Binaries already present there are reused (nothing is rebuilt).
#
# Usage: scripts/build-peers.sh [--force] [peer ...]
#   peer: geth | op-node | op-batcher | op-proposer | op-proposer-l2oo | difftest | codecbench
#         (default: all seven)
#   --force: rebuild even if the binary exists.
#
# op-proposer-l2oo is op-proposer from the older optimism version pinned in
# interop/go-proposer (the newest whose op-proposer still has --l2oo-address, for
# the devnet's L2OutputOracle), built to <cache>/<that version>/bin/op-proposer.
#
# difftest is our own program (interop/go/difftest/, `pyop difftest`'s Go side) that calls
# op-node's derive package as a library; it is rebuilt when its sources change (stamp
# <cache>/<version>/VERSIONS.difftest), otherwise reused. codecbench (interop/go/codecbench/,
# bench/go_codec_bench.py's Go side: op-node's channel codec timed in-process) is built the same way.
# Environment:
#   PYOP_PEERS_CACHE   cache root (default ~/.cache/pyop/peers)
#   PYOP_PEERS_CGO     CGO_ENABLED for the builds (default 0: pure-Go builds)
#   PYOP_PEERS_NICE    nice level (default 10); builds always use `-p 1`
#
# See interop/go/BUILD-NOTES.md for which versions build and why op-node needs
# the superchain-registry bundle step below.
set -euo pipefail

force=0
peers=()
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        geth|op-node|op-batcher|op-proposer|op-proposer-l2oo|difftest|codecbench) peers+=("$arg") ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "build-peers: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
[ ${#peers[@]} -gt 0 ] || peers=(geth op-node op-batcher op-proposer op-proposer-l2oo difftest codecbench)

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
mod_dir="$repo_root/interop/go"
l2oo_mod_dir="$repo_root/interop/go-proposer"

command -v go >/dev/null || { echo "build-peers: 'go' not found in PATH" >&2; exit 1; }

export GOFLAGS="-mod=mod -p=1 -buildvcs=false"
export CGO_ENABLED="${PYOP_PEERS_CGO:-0}"
nice_lvl="${PYOP_PEERS_NICE:-10}"

opt_mod=github.com/ethereum-optimism/optimism
geth_mod=github.com/ethereum/go-ethereum

modinfo() { (cd "${3:-$mod_dir}" && go list -m -f "$1" "$2"); }
opt_ver=$(modinfo '{{.Version}}' "$opt_mod")
opgeth_ver=$(modinfo '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$geth_mod")

cache_root="${PYOP_PEERS_CACHE:-$HOME/.cache/pyop/peers}"
out="$cache_root/$opt_ver"
bin="$out/bin"
mkdir -p "$bin"

pkg_of() {
    case "$1" in
        geth) echo "$geth_mod/cmd/geth" ;;
        *) echo "$opt_mod/$1/cmd" ;;
    esac
}

ldflags_of() {
    case "$1" in
        op-node) echo "-X $opt_mod/op-node/version.Version=$opt_ver -X $opt_mod/op-node/version.Meta=pyop-proxy-build" ;;
        op-batcher|op-proposer) echo "-X main.Version=$opt_ver" ;;
        geth) echo "-X $geth_mod/version.gitTag=$opgeth_ver" ;;
        *) echo "" ;;
    esac
}

# make_bundle <op-geth bundle zip> <op-core/superchain dir>: writes
# <dir>/superchain-configs.zip. op-geth's registry snapshot is older than the one
# newer optimism versions pin and still has two top-level TOML keys that those
# versions decode strictly and reject ("unknown TOML keys not represented in the
# target struct: superchain_level" for chain files, "...: protocol_versions_addr"
# for superchain.toml). Each such key is dropped only when the optimism
# op-core/superchain types no longer declare it. Entries are re-zipped in sorted
# order with fixed timestamps so the result is reproducible.
make_bundle() {
    local bundle=$1 dst=$2 stage
    stage=$(mktemp -d)
    (cd "$stage" && unzip -q "$bundle")
    local key
    for key in superchain_level protocol_versions_addr; do
        if ! grep -qs "toml:\"$key\"" "$dst"/*.go; then
            find "$stage/configs" -name '*.toml' -exec sed -i "/^$key[[:space:]]*=/d" {} +
        fi
    done
    (
        cd "$stage"
        export TZ=UTC
        find . -exec touch -t 198001010000.00 {} +
        find . -type f | LC_ALL=C sort | xargs zip -q -X -9 "$dst/superchain-configs.zip"
    )
    rm -rf "$stage"
}

# Newer optimism versions (>= v1.18) go:embed op-core/superchain/superchain-configs.zip,
# a generated, git-ignored file that a module-proxy download does not contain, so
# op-node cannot be compiled straight from the module cache. Work-around (no Go code
# is changed): build op-node against a writable copy of the verified module placed in
# the cache, with the registry bundle that the pinned op-geth module ships
# (op-geth/superchain/superchain-configs.zip, same file format) and the pin files
# (.sha256, and the registry-commit file where one exists) rewritten to match it.
# Echoes the directory of the module to build op-node in.
prepare_opnode_module() {
    local src geth_dir sc_dir work tree bundle sha
    src=$(modinfo '{{.Dir}}' "$opt_mod")
    sc_dir="$src/op-core/superchain"
    if ! grep -qs 'go:embed superchain-configs.zip$' "$sc_dir"/*.go || [ -f "$sc_dir/superchain-configs.zip" ]; then
        echo "$mod_dir"
        return
    fi
    geth_dir=$(modinfo '{{.Dir}}' "$geth_mod")
    bundle="$geth_dir/superchain/superchain-configs.zip"
    [ -f "$bundle" ] || { echo "build-peers: no registry bundle in $geth_dir" >&2; return 1; }
    work="$out/opnode-build"
    tree="$work/optimism"
    if [ ! -f "$work/.ready" ]; then
        echo "build-peers: op-node: $opt_ver lacks superchain-configs.zip; using op-geth $opgeth_ver's bundle" >&2
        rm -rf "$work"
        mkdir -p "$work"
        cp -R "$src" "$tree"
        chmod -R u+w "$tree"
        make_bundle "$bundle" "$tree/op-core/superchain"
        sha=$(sha256sum "$tree/op-core/superchain/superchain-configs.zip" | cut -d' ' -f1)
        printf '%s  superchain-configs.zip\n' "$sha" > "$tree/op-core/superchain/superchain-configs.zip.sha256"
        if [ -f "$tree/op-core/superchain/superchain-registry-commit.txt" ]; then
            unzip -p "$bundle" COMMIT > "$tree/op-core/superchain/superchain-registry-commit.txt"
        fi
        mkdir -p "$work/mod"
        cp "$mod_dir/go.mod" "$mod_dir/go.sum" "$work/mod/"
        (cd "$work/mod" && go mod edit -replace "$opt_mod=$tree")
        {
            echo "optimism module: $opt_mod@$opt_ver (copied from $src)"
            echo "registry bundle: $bundle (superchain_level/protocol_versions_addr keys dropped if unknown to $opt_ver)"
            echo "bundle sha256:   $sha"
            echo "bundle COMMIT:   $(unzip -p "$bundle" COMMIT 2>/dev/null || echo '?')"
            echo "upstream pin:    $(cat "$sc_dir/superchain-configs.zip.sha256")"
        } > "$work/BUNDLE-SUBSTITUTION.txt"
        touch "$work/.ready"
    fi
    echo "$work/mod"
}

# op-proposer for the L2OutputOracle, from interop/go-proposer (its own optimism +
# op-geth pins), cached per that optimism version with its own VERSIONS stamp.
build_l2oo_proposer() {
    local ver out2 target2 stamp2 start
    ver=$(modinfo '{{.Version}}' "$opt_mod" "$l2oo_mod_dir")
    out2="$cache_root/$ver"
    target2="$out2/bin/op-proposer"
    stamp2=$(printf 'optimism=%s\nop-geth=%s\ngo=%s\ncgo=%s\ngo.sum=%s\n' "$ver" \
        "$(modinfo '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$geth_mod" "$l2oo_mod_dir")" \
        "$(go version | cut -d' ' -f3)" "$CGO_ENABLED" "$(sha256sum "$l2oo_mod_dir/go.sum" | cut -d' ' -f1)")
    if [ "$force" -eq 0 ] && [ -x "$target2" ] && [ -f "$out2/VERSIONS.l2oo" ] \
        && [ "$(cat "$out2/VERSIONS.l2oo")" = "$stamp2" ]; then
        echo "build-peers: op-proposer-l2oo: reusing $target2"
        return
    fi
    mkdir -p "$out2/bin"
    (cd "$l2oo_mod_dir" && go mod download)
    start=$(date +%s)
    echo "build-peers: op-proposer-l2oo: building $opt_mod/op-proposer/cmd@$ver ..."
    (cd "$l2oo_mod_dir" && nice -n "$nice_lvl" go build -trimpath \
        -ldflags "-X main.Version=$ver" -o "$target2.tmp" "$opt_mod/op-proposer/cmd")
    mv "$target2.tmp" "$target2"
    printf '%s\n' "$stamp2" > "$out2/VERSIONS.l2oo"
    built=$((built + 1))
    echo "build-peers: op-proposer-l2oo: done in $(( $(date +%s) - start ))s ($target2)"
}

# difftest (our code, interop/go/difftest) built in interop/go against the pinned optimism
# module; its stamp includes a hash of its sources so an edit rebuilds it.
build_difftest() {
    local target3 stamp3 src_sum start
    target3="$bin/difftest"
    src_sum=$(cd "$mod_dir" && cat difftest/*.go go.mod go.sum | sha256sum | cut -d' ' -f1)
    stamp3=$(printf '%s\nsources=%s\n' "$stamp" "$src_sum")
    if [ "$force" -eq 0 ] && [ -x "$target3" ] && [ -f "$out/VERSIONS.difftest" ] \
        && [ "$(cat "$out/VERSIONS.difftest")" = "$stamp3" ]; then
        echo "build-peers: difftest: reusing $target3"
        return
    fi
    start=$(date +%s)
    echo "build-peers: difftest: building interop/go/difftest ..."
    (cd "$mod_dir" && nice -n "$nice_lvl" go build -trimpath -o "$target3.tmp" ./difftest)
    mv "$target3.tmp" "$target3"
    printf '%s\n' "$stamp3" > "$out/VERSIONS.difftest"
    built=$((built + 1))
    echo "build-peers: difftest: done in $(( $(date +%s) - start ))s ($target3)"
}

# codecbench (our code, interop/go/codecbench), built like difftest: rebuilt when its sources,
# the pins or the toolchain change (stamp <cache>/<version>/VERSIONS.codecbench).
build_codecbench() {
    local target4 stamp4 start
    target4="$bin/codecbench"
    stamp4=$(printf '%s\nsources=%s\n' "$stamp" \
        "$(cd "$mod_dir" && cat codecbench/*.go go.mod go.sum | sha256sum | cut -d' ' -f1)")
    if [ "$force" -eq 0 ] && [ -x "$target4" ] && [ -f "$out/VERSIONS.codecbench" ] \
        && [ "$(cat "$out/VERSIONS.codecbench")" = "$stamp4" ]; then
        echo "build-peers: codecbench: reusing $target4"
        return
    fi
    start=$(date +%s)
    echo "build-peers: codecbench: building interop/go/codecbench ..."
    (cd "$mod_dir" && nice -n "$nice_lvl" go build -trimpath -o "$target4.tmp" ./codecbench)
    mv "$target4.tmp" "$target4"
    printf '%s\n' "$stamp4" > "$out/VERSIONS.codecbench"
    built=$((built + 1))
    echo "build-peers: codecbench: done in $(( $(date +%s) - start ))s ($target4)"
}

stamp=$(printf 'optimism=%s\nop-geth=%s\ngo=%s\ncgo=%s\ngo.sum=%s\n' "$opt_ver" "$opgeth_ver" \
    "$(go version | cut -d' ' -f3)" "$CGO_ENABLED" "$(sha256sum "$mod_dir/go.sum" | cut -d' ' -f1)")
if [ -f "$out/VERSIONS" ] && [ "$(cat "$out/VERSIONS")" != "$stamp" ]; then
    echo "build-peers: pins/toolchain changed since the cached build; rebuilding"
    force=1
    rm -rf "$out/opnode-build"
fi

echo "build-peers: optimism $opt_ver, op-geth $opgeth_ver, $(go version | cut -d' ' -f3), CGO_ENABLED=$CGO_ENABLED"
echo "build-peers: output $bin"

# Fetch (and verify against go.sum) all modules first; a no-op when cached.
(cd "$mod_dir" && go mod download)

total_start=$(date +%s)
built=0
for peer in "${peers[@]}"; do
    if [ "$peer" = op-proposer-l2oo ]; then
        build_l2oo_proposer
        continue
    fi
    if [ "$peer" = difftest ]; then
        build_difftest
        continue
    fi
    if [ "$peer" = codecbench ]; then
        build_codecbench
        continue
    fi
    target="$bin/$peer"
    if [ "$force" -eq 0 ] && [ -x "$target" ]; then
        echo "build-peers: $peer: reusing $target"
        continue
    fi
    build_dir="$mod_dir"
    if [ "$peer" = op-node ]; then
        build_dir=$(prepare_opnode_module)
    fi
    start=$(date +%s)
    echo "build-peers: $peer: building $(pkg_of "$peer") ..."
    (cd "$build_dir" && nice -n "$nice_lvl" go build -trimpath \
        -ldflags "$(ldflags_of "$peer")" -o "$target.tmp" "$(pkg_of "$peer")")
    mv "$target.tmp" "$target"
    built=$((built + 1))
    echo "build-peers: $peer: done in $(( $(date +%s) - start ))s"
done

printf '%s\n' "$stamp" > "$out/VERSIONS"

echo "build-peers: $built built, wall time $(( $(date +%s) - total_start ))s"
