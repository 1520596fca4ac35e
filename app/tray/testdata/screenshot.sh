#!/bin/sh
# screenshot.sh OUT.png [STATE] — shows the Mail Sync tray under Xvfb in
# gtk-sni-tray-standalone, opens its menu with a right click and saves a
# screenshot of the screen's top-left corner to OUT.png. STATE is a sample
# status of traydemo (idle, syncing, reconnect, error, paused, signedout,
# crmsignedout;
# default idle).
#
# Needs: Xvfb, dbus-run-session, status-notifier-watcher,
# gtk-sni-tray-standalone, xdotool, ImageMagick (import, convert), go.
# Run from anywhere inside the module.
set -eu
out=$(realpath "${1:?usage: screenshot.sh OUT.png [STATE]}")
state=${2:-idle}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $xvfb 2>/dev/null; rm -rf "$work"' EXIT

(cd "$here/.." && go build -o "$work/traydemo" ./internal/traydemo)

display=:$(( 90 + $$ % 100 ))
Xvfb "$display" -screen 0 640x400x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb=$!
for _ in $(seq 50); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done

# Everything that talks D-Bus runs inside one private session bus.
DISPLAY=$display dbus-run-session -- sh -eu -c '
	work=$1 state=$2 out=$3
	status-notifier-watcher >"$work/watcher.log" 2>&1 &
	sleep 0.5
	gtk-sni-tray-standalone --top --beginning --size 32 --color "#3c3f41" >"$work/host.log" 2>&1 &
	sleep 1
	sleep 30 | "$work/traydemo" -state "$state" >"$work/demo.log" 2>&1 &
	sleep 2
	xdotool mousemove 16 16 click 3
	sleep 1
	import -window root -crop 360x260+0+0 "$out"
	kill $(jobs -p) 2>/dev/null || true
' screenshot "$work" "$state" "$out"
echo "wrote $out"
