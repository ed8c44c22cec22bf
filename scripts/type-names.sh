#!/bin/sh
# Lists every type name defined in more than one file under src/: a `pub` or `pub(...)` struct,
# enum, type alias, trait or union, with the files that define it. One concept, one name: a name
# defined for two concepts makes every reader and every `use` line guess which is meant.
#
# A feature's `enabled.rs` and `disabled.rs` (src/backend/gpu/, src/backend/mpi/) define the
# same items, one of them per build, so the two count as one file.
#
# Usage: scripts/type-names.sh [SRC]   (default: src)
# Prints `NAME: FILE FILE ...` for each name defined in two or more files and exits 1 if there
# is any; prints nothing and exits 0 if there is none.
set -eu

SRC=${1:-src}
LIST=$(
    grep -rEo --include='*.rs' \
        '^[[:space:]]*pub(\([a-z:]+( [a-z:]+)?\))?[[:space:]]+(struct|enum|type|trait|union)[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' \
        "$SRC" |
        sed -E 's/^([^:]+):.*(struct|enum|type|trait|union)[[:space:]]+([A-Za-z0-9_]+)$/\3 \1/' |
        sed -E 's#/(en|dis)abled\.rs$#/{enabled,disabled}.rs#' |
        sort -u |
        awk '
            { files[$1] = files[$1] " " $2; count[$1]++ }
            END { for (name in count) if (count[name] > 1) print name ":" files[name] }' |
        sort
)
if [ -n "$LIST" ]; then
    printf '%s\n' "$LIST"
    exit 1
fi
