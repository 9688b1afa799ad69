#!/usr/bin/env bash
# Installs Baton from this checkout and puts `baton` on the PATH (npm link).
# Needs Node.js 20 or newer; installs the compiler tools better-sqlite3 builds with.
set -euo pipefail
cd "$(dirname "$0")"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "error: Baton needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "  hint: Debian 12 ships Node.js 18; install Node.js 20 (nvm, or your distribution's backports) and run ./install.sh again" >&2
  exit 1
fi

missing=()
for tool in make g++ python3 mkfifo ps; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends make g++ python3 coreutils procps
fi

npm ci --no-audit --no-fund
npm run build
npm link --no-audit --no-fund >/dev/null
echo "baton installed: $(command -v baton)"
