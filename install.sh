#!/bin/sh
# Install imx from this checkout: the binary, shell completions and man pages.
#
#   ./install.sh                      build and install under ~/.local
#   ./install.sh --prefix /usr/local  install elsewhere (may need sudo)
#   ./install.sh --uninstall          remove exactly what was installed
#
# Installs:
#   PREFIX/bin/imx
#   PREFIX/share/bash-completion/completions/imx
#   PREFIX/share/zsh/site-functions/_imx
#   PREFIX/share/fish/vendor_completions.d/imx.fish
#   PREFIX/share/man/man1/imx*.1, PREFIX/share/man/man5/imx-workflow.5
# and records the list in PREFIX/share/imx/installed-files so --uninstall removes only those.

set -eu

prefix="${HOME}/.local"
uninstall=0

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            [ $# -ge 2 ] || { echo "error: --prefix needs a directory" >&2; exit 2; }
            prefix="$2"
            shift 2
            ;;
        --prefix=*)
            prefix="${1#--prefix=}"
            shift
            ;;
        --uninstall)
            uninstall=1
            shift
            ;;
        -h|--help)
            usage
            exit 0
            ;;
        *)
            echo "error: unknown argument: $1" >&2
            usage >&2
            exit 2
            ;;
    esac
done

[ -n "$prefix" ] || { echo "error: --prefix must not be empty" >&2; exit 2; }
case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac

manifest="$prefix/share/imx/installed-files"

if [ "$uninstall" -eq 1 ]; then
    if [ ! -f "$manifest" ]; then
        echo "Nothing to uninstall: no $manifest." >&2
        exit 0
    fi
    while IFS= read -r file; do
        [ -n "$file" ] || continue
        if [ -e "$file" ] || [ -L "$file" ]; then
            rm -f "$file"
            echo "removed $file"
        fi
    done < "$manifest"
    rm -f "$manifest"
    rmdir "$prefix/share/imx" 2>/dev/null || true
    echo "Uninstalled imx from $prefix."
    exit 0
fi

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

command -v cargo >/dev/null 2>&1 || {
    echo "error: cargo not found; install Rust from https://rustup.rs" >&2
    exit 1
}

echo "Building imx (cargo build --release --locked)..."
cargo build --release --locked

target_dir="${CARGO_TARGET_DIR:-$here/target}"
binary="$target_dir/release/imx"
[ -x "$binary" ] || { echo "error: built binary not found at $binary" >&2; exit 1; }

bindir="$prefix/bin"
bashdir="$prefix/share/bash-completion/completions"
zshdir="$prefix/share/zsh/site-functions"
fishdir="$prefix/share/fish/vendor_completions.d"
mandir="$prefix/share/man/man1"
man5dir="$prefix/share/man/man5"

mkdir -p "$bindir" "$bashdir" "$zshdir" "$fishdir" "$mandir" "$man5dir" "$prefix/share/imx"

tmp_manifest="$manifest.tmp"
: > "$tmp_manifest"

put() {
    # put SOURCE DEST MODE
    install -m "$3" "$1" "$2"
    echo "$2" >> "$tmp_manifest"
    echo "installed $2"
}

put "$binary" "$bindir/imx" 755
put completions/imx.bash "$bashdir/imx" 644
put completions/_imx "$zshdir/_imx" 644
put completions/imx.fish "$fishdir/imx.fish" 644
for page in man/*.1; do
    [ -f "$page" ] || continue
    put "$page" "$mandir/$(basename "$page")" 644
done
for page in man/*.5; do
    [ -f "$page" ] || continue
    put "$page" "$man5dir/$(basename "$page")" 644
done

# Keep entries from an earlier install that this one did not overwrite, so --uninstall still
# removes them (e.g. a man page of a command that no longer exists).
if [ -f "$manifest" ]; then
    while IFS= read -r old; do
        grep -qxF "$old" "$tmp_manifest" || echo "$old" >> "$tmp_manifest"
    done < "$manifest"
fi
mv "$tmp_manifest" "$manifest"

echo "Installed imx $("$bindir/imx" --version | cut -d' ' -f2) to $prefix."

case ":${PATH}:" in
    *":$bindir:"*) ;;
    *)
        echo "hint: $bindir is not on your PATH (the shell completions run imx from it); add this"
        echo "to your shell profile:"
        echo "  export PATH=\"$bindir:\$PATH\""
        ;;
esac
