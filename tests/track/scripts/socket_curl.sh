#!/bin/bash
HOST="track.safectory.com"
URL="https://$HOST";
USER="<User>";
PASS="<Password>";
rm -f ./track_cookie
curl -s -c ./track_cookie "$URL"/api/session --data 'email='"$USER"'&password='"$PASS"
curl -i -b ./track_cookie --no-buffer --header 'Connection: Upgrade' --header 'Upgrade: websocket' --header 'Host: '"$HOST" --header 'Origin: '"$URL" --header 'Sec-WebSocket-Version: 13' --header 'Sec-WebSocket-Key: '$(head -c32 /dev/urandom |base64) "$URL"/api/socket --output -
