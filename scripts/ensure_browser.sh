#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver when missing (browser tests drive them headless).
set -eu
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi
echo "installing chromium and chromium-driver"
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
command -v chromedriver >/dev/null
