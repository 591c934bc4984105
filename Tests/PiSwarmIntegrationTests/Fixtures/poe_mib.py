#!/usr/bin/python3
"""A PoE switch's POWER-ETHERNET-MIB for snmpd's pass_persist, for the snmp-poe driver's tests.

Serves pethPsePortAdminEnable (1.3.6.1.2.1.105.1.1.1.3.GROUP.PORT: 1 on, 2 off) for group 1,
ports 1-8. The ports' state lives in the file named by the first argument, one "PORT VALUE"
line per port, so a test reads exactly which ports changed. A missing file starts with every
port on. Ports other than 1-8 (or another group) do not exist: get answers NONE, set
not-writable, as a switch answers for a port without PoE.
"""
import os
import sys

BASE = ".1.3.6.1.2.1.105.1.1.1.3"
GROUP = 1
PORTS = range(1, 9)


def load(path):
    state = {port: 1 for port in PORTS}
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                port, value = line.split()
                state[int(port)] = int(value)
    except FileNotFoundError:
        pass
    return state


def save(path, state):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="ascii") as handle:
        for port in PORTS:
            handle.write(f"{port} {state[port]}\n")
    os.replace(temporary, path)


def port_of(oid):
    """The port an instance OID names, or None when it is not one of ours."""
    if not oid.startswith(BASE + "."):
        return None
    parts = oid[len(BASE) + 1:].split(".")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    group, port = int(parts[0]), int(parts[1])
    return port if group == GROUP and port in PORTS else None


def following(oid):
    """The first instance after `oid` in lexicographic OID order, or None."""
    def key(text):
        return [int(part) for part in text.strip(".").split(".") if part]
    for port in PORTS:
        candidate = f"{BASE}.{GROUP}.{port}"
        if key(candidate) > key(oid):
            return candidate
    return None


def main():
    path = sys.argv[1]
    out = sys.stdout
    while True:
        command = sys.stdin.readline()
        if not command:
            return
        command = command.strip()
        if not command:
            continue  # snmpd ends a set with an empty line: no answer is due
        if command == "PING":
            out.write("PONG\n")
        elif command in ("get", "getnext"):
            oid = sys.stdin.readline().strip()
            target = oid if command == "get" else following(oid)
            port = port_of(target) if target else None
            if port is None:
                out.write("NONE\n")
            else:
                out.write(f"{target}\ninteger\n{load(path)[port]}\n")
        elif command == "set":
            oid = sys.stdin.readline().strip()
            kind, _, value = sys.stdin.readline().strip().partition(" ")
            port = port_of(oid)
            if port is None:
                out.write("not-writable\n")
            elif kind != "integer":
                out.write("wrong-type\n")
            elif value not in ("1", "2"):
                out.write("wrong-value\n")
            else:
                state = load(path)
                state[port] = int(value)
                save(path, state)
                out.write("DONE\n")
        else:
            out.write("NONE\n")
        out.flush()


if __name__ == "__main__":
    main()
