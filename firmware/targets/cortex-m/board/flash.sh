#!/bin/sh
# Writes a board ELF to flash, verifies it and resets the board: pyocd when it is on PATH, else openocd.
# Usage: flash.sh ELF PYOCD_TARGET OPENOCD_CONFIG  (called by `make -C firmware flash BOARD=...`).
# The PYOCD and OPENOCD environment variables name the programs (default: pyocd, openocd).
set -eu
if [ "$#" -ne 3 ]; then
    echo "usage: flash.sh ELF PYOCD_TARGET OPENOCD_CONFIG" >&2
    exit 2
fi
elf=$1
pyocd_target=$2
openocd_config=$3
pyocd=${PYOCD:-pyocd}
openocd=${OPENOCD:-openocd}

if command -v "$pyocd" >/dev/null 2>&1; then
    echo "lpn flash: $pyocd flash -t $pyocd_target $elf"
    exec "$pyocd" flash -t "$pyocd_target" "$elf"
elif command -v "$openocd" >/dev/null 2>&1; then
    echo "lpn flash: $openocd -f $openocd_config -c \"program {$elf} verify reset exit\""
    exec "$openocd" -f "$openocd_config" -c "program {$elf} verify reset exit"
fi
echo "lpn flash: neither '$pyocd' nor '$openocd' is on PATH; install one of them:" >&2
echo "  pip install pyocd            (then, if the target is unknown: pyocd pack install $pyocd_target)" >&2
echo "  apt-get install openocd      (or your distribution's openocd package)" >&2
exit 1
