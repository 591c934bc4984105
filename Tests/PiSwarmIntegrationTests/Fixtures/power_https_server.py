#!/usr/bin/python3
"""Small HTTPS servers speaking the APIs of the turingpi and webhook power drivers, for their tests.

  power_https_server.py bmc|webhook --cert PEM --key PEM --state FILE --port-file FILE [--port N]
      [--user U --password P] [--token T] [--plain]

bmc: the Turing Pi 2 BMC firmware 2.x API (bmcd): POST /api/bmc/authenticate with JSON
{"username", "password"} answers {"id": TOKEN, ...} (403 on wrong credentials); GET
/api/bmc?opt=set&type=power&nodeN=1|0 and ?opt=get&type=power with "Authorization: Bearer
TOKEN" (401 without), answering in bmcd's legacy shape {"response": [{"result": ...}]}.
The state file holds the four slots, one "SLOT 0|1" line each.

webhook: a MAAS-style webhook: POST /machines/NAME/on and /off, GET /machines/NAME/status
answering "power: on" or "power: off"; requests need "Authorization: Bearer TOKEN" when
--token is given, else HTTP basic auth with --user/--password. The state file holds one
"NAME on|off" line per machine.

--plain serves plain HTTP (for allow_http). Every request line is appended to STATE.log. The chosen port is written to the port file
once the server listens.
"""
import argparse
import base64
import http.server
import json
import os
import secrets
import ssl
import urllib.parse


def load(path, default):
    state = dict(default)
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, value = line.split()
                state[key] = value
    except FileNotFoundError:
        pass
    return state


def save(path, state):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        for key in sorted(state):
            handle.write(f"{key} {state[key]}\n")
    os.replace(temporary, path)


def make_handler(options):
    tokens = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            with open(options.state + ".log", "a", encoding="utf-8") as handle:
                handle.write(f"{self.command} {self.path}\n")

        def reply(self, status, body, content_type="application/json"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode() if length else ""

        def authorized(self):
            header = self.headers.get("Authorization") or ""
            if options.mode == "bmc":
                return header.startswith("Bearer ") and header[len("Bearer "):] in tokens
            if options.token:
                return header == f"Bearer {options.token}"
            expected = base64.b64encode(f"{options.user}:{options.password}".encode()).decode()
            return header == f"Basic {expected}"

        def do_POST(self):  # noqa: N802 (http.server's name)
            url = urllib.parse.urlsplit(self.path)
            if options.mode == "bmc" and url.path == "/api/bmc/authenticate":
                try:
                    credentials = json.loads(self.body())
                except ValueError:
                    return self.reply(400, "not JSON", "text/plain")
                if credentials.get("username") != options.user or credentials.get("password") != options.password:
                    return self.reply(403, "Forbidden: invalid credentials", "text/plain")
                token = secrets.token_hex(16)
                tokens.add(token)
                return self.reply(200, json.dumps({"id": token, "ip": self.client_address[0], "expires": 3600}))
            if options.mode == "webhook":
                return self.webhook("POST", url.path)
            return self.reply(404, "not found", "text/plain")

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urllib.parse.urlsplit(self.path)
            if options.mode == "webhook":
                return self.webhook("GET", url.path)
            if url.path != "/api/bmc":
                return self.reply(404, "not found", "text/plain")
            if not self.authorized():
                return self.reply(401, "Unauthorized", "text/plain")
            query = dict(urllib.parse.parse_qsl(url.query))
            if query.get("type") != "power":
                return self.reply(400, json.dumps({"response": [{"result": "Invalid `type` parameter"}]}))
            slots = {f"node{slot}": "0" for slot in range(1, 5)}
            state = load(options.state, slots)
            if query.get("opt") == "get":
                return self.reply(200, json.dumps({"response": [{"result": [state]}]}))
            if query.get("opt") != "set":
                return self.reply(400, json.dumps({"response": [{"result": "Missing `opt` parameter"}]}))
            for key in slots:
                if key in query:
                    if query[key] not in ("0", "1"):
                        message = f"Invalid value `{query[key]}` for parameter `{key}`"
                        return self.reply(400, json.dumps({"response": [{"result": message}]}))
                    state[key] = query[key]
            save(options.state, state)
            return self.reply(200, json.dumps({"response": [{"result": "ok"}]}))

        def webhook(self, method, path):
            if not self.authorized():
                return self.reply(401, "Unauthorized", "text/plain")
            parts = path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "machines":
                return self.reply(404, "no such machine", "text/plain")
            name, action = parts[1], parts[2]
            state = load(options.state, {})
            if action == "status" and method == "GET":
                return self.reply(200, f"machine {name}\npower: {state.get(name, 'off')}\n", "text/plain")
            if action in ("on", "off") and method == "POST":
                state[name] = action
                save(options.state, state)
                return self.reply(200, "accepted\n", "text/plain")
            return self.reply(405, "method not allowed", "text/plain")

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bmc", "webhook"])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--plain", action="store_true", help="plain HTTP: no TLS")
    options = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(options))
    if not options.plain:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.cert, options.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(options.port_file + ".tmp", "w", encoding="ascii") as handle:
        handle.write(f"{server.server_address[1]}\n")
    os.replace(options.port_file + ".tmp", options.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
