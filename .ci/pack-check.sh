#!/usr/bin/env bash
# The packed package, installed as a user would: `npm pack` (prepare builds dist/ from scratch), then an
# empty project runs `npm install <tarball>` with no overrides and no .npmrc of its own — only
# ONNXRUNTIME_NODE_INSTALL=skip (onnxruntime-node's install script would otherwise fetch GPU binaries
# from outside the npm registry) — and .ci/pack-smoke.mjs imports 'strata' and walks the tour
# (ingest, embed, Parquet, features, materialize, serve one request). Fails if any step does.
# The npm cache (~/.npm) is shared with the project's own install, so repeated runs stay quick.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-pack-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

rm -rf dist
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "pack-check: packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"

# A small ONNX image model (32×32 RGB → 16-d), built by the project's own model builder.
node --import tsx --input-type=module -e "
  import { buildTinyConvNet, writeModel } from '$root/datasets/models/onnx-builder.ts';
  await writeModel(process.argv[1], buildTinyConvNet({ seed: 7 }).bytes);" "$work/model.onnx"

mkdir "$work/app"
cd "$work/app"
printf '{ "name": "strata-pack-check", "version": "0.0.0", "private": true, "type": "module" }\n' >package.json
# No npm_config_* from a calling npm, so the project's .npmrc settings cannot leak in.
for v in $(env | grep -o '^npm_config_[A-Za-z0-9_]*' || true); do unset "$v"; done
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --prefer-offline "$work/$tarball"
cp "$root/.ci/pack-smoke.mjs" .
node pack-smoke.mjs "$work/run" "$work/model.onnx"
echo "pack-check: ok"
