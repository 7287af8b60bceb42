#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: chromium (driven by Playwright, never a
# downloaded browser), ffmpeg (turns the shared videos into fake-webcam .y4m files) and
# postgresql, redis-server and nginx (the tests start throwaway servers of their own for cluster
# mode; nothing uses the system services, which are stopped and disabled after installing).
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged services on install; posecast starts its own, on its own ports.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now redis-server nginx >/dev/null 2>&1 || true
else
  $sudo service redis-server stop >/dev/null 2>&1 || true
  $sudo service nginx stop >/dev/null 2>&1 || true
fi
