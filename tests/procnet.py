"""Which TCP ports a process listens on, read from /proc (no `ss`/`lsof` needed): for the tests that list a
service's listeners and try each one."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets ``pid`` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listeners(pids: dict[int, str]) -> dict[int, tuple[str, int, str]]:
    """port → (address, pid, command line) of every TCP socket in LISTEN state owned by ``pids``
    (pid → command line)."""
    owner = {inode: pid for pid in pids for inode in socket_inodes(pid)}
    found: dict[int, tuple[str, int, str]] = {}
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in owner:
                continue
            addr_hex, port_hex = local.split(":")
            raw = b"".join(bytes.fromhex(addr_hex[i:i + 8])[::-1] for i in range(0, len(addr_hex), 8))
            found[int(port_hex, 16)] = (socket.inet_ntop(family, raw), owner[inode], pids[owner[inode]])
    return found
