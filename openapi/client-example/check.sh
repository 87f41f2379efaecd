#!/usr/bin/env bash
# CI: install the pinned packages, generate the types from ../openapi.json, type-check the example client.
set -euo pipefail
cd "$(dirname "$0")"

echo "== TypeScript client example: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== TypeScript client example: types from ../openapi.json"
npm run --silent generate
echo "== TypeScript client example: tsc --noEmit"
npm run --silent typecheck
echo "== TypeScript client example type-checks"
