#!/usr/bin/env bash
# Installs the built project into a scratch prefix, builds tests/consumer against it
# with find_package(jobledger), and runs it. Args: <build dir> <source dir>
set -euo pipefail
build="$1"; src="$2"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" > /dev/null
inc="$scratch/prefix/include"
# The package's headers are exactly include/jobledger/ (and the event schema): the
# project's own headers (ledger/wire.h, */internal/, the test hooks, ...) stay out.
installed=$(cd "$inc" && find . -type f | sed 's#^\./##' | sort)
expected=$( (cd "$src/include" && find jobledger -name '*.h'; echo jobledger/schema/events.capnp) | sort)
if [ "$installed" != "$expected" ]; then
  echo "installed headers differ from include/jobledger/:" >&2
  diff <(echo "$expected") <(echo "$installed") >&2 || true
  exit 1
fi
# One translation unit including every installed header, each on its own first, so a
# public header that needs a header the package does not install fails to build.
mkdir -p "$scratch/gen"
for h in $(cd "$inc" && find jobledger -name '*.h' | sort); do
  name=$(basename "$h" .h)
  printf '#include "%s"\n' "$h" > "$scratch/gen/alone_$name.cc"
done
cmake -S "$src/tests/consumer" -B "$scratch/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DJOBLEDGER_CONSUMER_GENERATED="$scratch/gen" > /dev/null
cmake --build "$scratch/build" > /dev/null
"$scratch/build/consumer" "$scratch/ledger"
