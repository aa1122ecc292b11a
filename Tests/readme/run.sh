#!/usr/bin/env bash
# Compiles and runs every code block of README.md (see Tests/readme/readme_blocks.py for the
# rule per language and the <!-- readme-test: skip (reason) --> marker). Expects `make` to have
# built build/. Run from anywhere: Tests/readme/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 Tests/readme/readme_blocks.py README.md
