#!/bin/sh
# The image's entry point: `trackmock serve` on every interface, writing its ready file.
#
#   TRACKMOCK_READY_FILE   where the ready file goes (default /srv/trackmock/ready.json); a stale
#                          one from an earlier run is removed first, so whoever waits for it
#                          never reads old URLs
#   TRACKMOCK_HOST         the address to listen on (default 0.0.0.0: every interface)
#   TRACKMOCK_ADMIN_TOKEN  read by `trackmock serve` itself (kept out of the process list)
#
# Arguments are passed to `trackmock serve` (default in the image: --vendor all).
set -eu
ready="${TRACKMOCK_READY_FILE:-/srv/trackmock/ready.json}"
folder="$(dirname "$ready")"
if ! mkdir -p "$folder" 2>/dev/null || [ ! -w "$folder" ]; then
  echo "trackmock: cannot write the ready file to $folder as uid $(id -u):" \
    "make that folder writable for uid $(id -u) on the host, or run the container as your own" \
    "user (Compose: TRACKMOCK_USER=\"\$(id -u):\$(id -g)\" docker compose up)" >&2
  exit 1
fi
rm -f "$ready"
exec trackmock serve --host "${TRACKMOCK_HOST:-0.0.0.0}" --ready-file "$ready" "$@"
