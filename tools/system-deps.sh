#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: chromium (driven by Playwright, never a
# downloaded browser), ffmpeg (turns the shared videos into fake-webcam .y4m files) and
# postgresql (the tests start a throwaway server of their own; nothing uses the system cluster).
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
