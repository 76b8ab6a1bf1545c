#!/bin/bash
#
# Script to fetch a route for a device and format output via jq
#
source ./userdata # Load credentials (= variables EMAIL and PASSWORD)
URL="https://track.safectory.com/api"
COOKIE="./track_cookie"
# Log in and create session cookie
if curl -s -c "$COOKIE" "$URL/session" --data "email=$EMAIL&password=$PASSWORD" | grep -q name; then
echo "Logged In..."
else
echo "LOGIN failed"
exit 1
fi
# Fetch device ID
DEVICEID=$(curl -sb "$COOKIE" "$URL/devices" | jq -r '.. | objects | select(.name and (.name | contains("quickstart-guide-device-1"))) | .id')
# Specify time span and filters
TO=2025-02-21T20%3A00%3A00.000Z
FROM=2025-02-21T10%3A00%3A00.000Z
FILTERS=filterSameLocation=true&filterFlapping=true
# Fetch route
curl -sb "$COOKIE" -H 'Accept: application/json' "$URL/reports/route?deviceId=$DEVICEID&from=$FROM&to=$TO&$FILTERS" | jq
rm "$COOKIE" # Cleanup
