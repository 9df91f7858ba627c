#!/usr/bin/env bash
# Regenerates the TypeScript bindings in src/tflite/schema/generated from
# src/tflite/schema/tflite.fbs. Usage: `npm run schema` (or run this file).
set -euo pipefail

if ! command -v flatc >/dev/null 2>&1; then
  echo "gen-schema: flatc not found on PATH; install Debian's flatbuffers-compiler (apt-get install flatbuffers-compiler)" >&2
  exit 1
fi

# Work from the repository root so the paths below are stable.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

schema="src/tflite/schema/tflite.fbs"
out="src/tflite/schema/generated"

rm -rf "$out"
flatc --ts --gen-object-api -o "$out" "$schema"
echo "gen-schema: wrote $out from $schema ($(flatc --version))"
