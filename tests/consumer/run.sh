#!/usr/bin/env bash
# Installs the built project into a scratch prefix, builds tests/consumer against it
# with find_package(jobledger), and runs it. Args: <build dir> <source dir>
set -euo pipefail
build="$1"; src="$2"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" > /dev/null
# The project's own headers are not part of the package.
for private in ledger/wire.h ledger/config_wire.h ledger/memory_rows.h ledger/test_hooks.h \
               ledger/internal projections/internal projections/json_mapping.h; do
  if [ -e "$scratch/prefix/include/$private" ]; then
    echo "installed a private header: $private" >&2
    exit 1
  fi
done
cmake -S "$src/tests/consumer" -B "$scratch/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$scratch/build" > /dev/null
"$scratch/build/consumer" "$scratch/ledger"
