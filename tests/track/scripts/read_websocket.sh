#!/bin/bash
#
# Script for opening a WebSocket to the Track backend for continuously retrieving data
#
source ./userdata # Load credentials (= variables EMAIL and PASSWORD)
DOM="track.safectory.com"
URL_PATH="https://track.safectory.com/api"
COOKIE="./track_cookie"
# Login and create a session cookie
if curl -k -s -c "$COOKIE" "$URL_PATH/session" --data "email=$EMAIL&password=$PASSWORD" | grep -q name; then
echo "Logged In..."
else
echo "LOGIN failed"
exit 1
fi
WEBSOCK_KEY="$(head -c16 /dev/urandom | base64)"
curl -k -i -b "$COOKIE" --no-buffer \
--header "Connection: Upgrade" \
--header "Upgrade: websocket" \
--header "Host: $DOM" \
--header "Origin: $URL_PATH" \
--header "Sec-WebSocket-Version: 13" \
--header "Sec-WebSocket-Key: $WEBSOCK_KEY" \
"$URL_PATH/socket" --output -
