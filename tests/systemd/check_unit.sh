#!/usr/bin/env bash
# ctest entry: systemd/depositd.service is a valid unit and
# `systemd-analyze security --offline=yes` rates it at most 2.0.
# Skips (77) where systemd-analyze is not installed.
set -euo pipefail
src=$1
unit=$src/systemd/depositd.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
systemd-analyze --version | head -1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Valid unit: verify it with its programs pointed at something that exists.
sed "s|/usr/local/bin/depositd|/bin/true|g" "$unit" > "$work/depositd.service"
if ! out=$(systemd-analyze verify "$work/depositd.service" 2>&1) || [ -n "$out" ]; then
  echo "systemd-analyze verify found problems:"; echo "$out"; exit 1
fi

# The exposure score (lower is better; 2.0 is the top of "OK").
report=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || true
echo "$report" | grep -E '^✗' || true
score=$(echo "$report" | sed -n 's/.*Overall exposure level for depositd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "no exposure level in:"; echo "$report"; exit 1; }
echo "exposure level: $score (must be <= 2.0)"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "FAIL: exposure $score > 2.0"; exit 1; }

# What the issue asks for, present (a better score by other means is not enough).
for line in 'Type=notify' 'WatchdogSec=' 'RestartPreventExitStatus=2' 'UMask=0077' 'StateDirectoryMode=0700' \
            'ConfigurationDirectory=depositd' 'CapabilityBoundingSet=$' 'SystemCallFilter=@system-service' \
            'ProtectProc=invisible' 'ProcSubset=pid' 'PrivateUsers=yes' 'ProtectClock=yes' \
            'ProtectHostname=yes' 'ProtectKernelLogs=yes' 'RestrictSUIDSGID=yes' 'RestrictRealtime=yes' \
            'RemoveIPC=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
  grep -Eq "^$line" "$unit" || { echo "FAIL: $unit lacks $line"; exit 1; }
done
# A failing ExecStartPre= would bypass RestartPreventExitStatus= (restart loop on a bad config).
if grep -q '^ExecStartPre=' "$unit"; then echo "FAIL: ExecStartPre= in $unit"; exit 1; fi
echo "ok"
