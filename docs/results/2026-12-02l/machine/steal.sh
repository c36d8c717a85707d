#!/bin/bash
# per-second per-cpu user/system/idle/steal jiffies
while true; do echo "$(date +%s.%N | cut -c1-14) $(grep -E '^cpu[01] ' /proc/stat | awk '{printf "%s u%d s%d i%d st%d ", $1, $2, $4, $5, $9}')"; sleep 1; done
