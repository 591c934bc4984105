#!/usr/bin/env python3
"""Writes a cluster file with N nodes, one entry each (no ranges), for benchmarks."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
out = [
    "name: bench",
    "head:",
    "  interface: eth1",
    "  address: 10.0.0.1/16",
    "  lan: dhcp",
    "swarm:",
    "  managers: [node0001, node0002, node0003]",
    "nodes:",
]
for i in range(1, n + 1):
    ip = 10 + i
    out += [
        f"  - name: node{i:04d}   # shelf {i // 20}",
        f"    ip: 10.0.{ip // 256}.{ip % 256}",
        f"    mac: b8:27:eb:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}",
        f"    serial: {0x10000000 + i:08x}",
        "    model: pi4",
        f"    labels: {{ rack: r{i // 40} }}",
    ]
print("\n".join(out))
