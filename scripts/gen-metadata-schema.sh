#!/usr/bin/env bash
# Regenerates the TypeScript bindings in src/tflite/metadata/generated from
# src/tflite/metadata/metadata.fbs (the TFLite model metadata subset we read).
set -euo pipefail

if ! command -v flatc >/dev/null 2>&1; then
  echo "gen-metadata-schema: flatc not found on PATH; install Debian's flatbuffers-compiler (apt-get install flatbuffers-compiler)" >&2
  exit 1
fi

# Work from the repository root so the paths below are stable.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

schema="src/tflite/metadata/metadata.fbs"
out="src/tflite/metadata/generated"

rm -rf "$out"
flatc --ts --gen-object-api -o "$out" "$schema"
echo "gen-metadata-schema: wrote $out from $schema ($(flatc --version))"
