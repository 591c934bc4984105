#!/usr/bin/env python3
"""Drives Debian's headless Chromium against `piswarm serve` over the DevTools protocol, with a
WebSocket client from the standard library only. Used by ServeIntegrationTests; prints one
JSON report on stdout.

  serve-browser.py --base http://127.0.0.1:PORT --login URL --down NODE --stop 'CMD ...'
                   --drain NODE --screenshot FILE
"""
import argparse
import base64
import json
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, masked from us."""

    def __init__(self, url):
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=120)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("the browser closed the WebSocket during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"no WebSocket: {head[:200]!r}")

    def send(self, text):
        data = text.encode()
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def exactly(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise RuntimeError("the browser closed the WebSocket")
            data += chunk
        return data

    def receive(self):
        message = b""
        while True:
            first, second = self.exactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.exactly(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self.exactly(8))[0]
            payload = self.exactly(length)
            opcode = first & 0x0F
            if opcode == 8:
                raise RuntimeError("the browser closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if first & 0x80:
                    return message.decode()


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next = 0

    def call(self, method, **params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("method") == "Page.javascriptDialogOpening":
                raise RuntimeError("the page opened a dialog: " + json.dumps(reply.get("params")))
            if reply.get("id") == self.next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, timeout, step=0.1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                value = self.eval(expression)
            except RuntimeError:
                value = None  # the page is between documents
            if value:
                return value
            time.sleep(step)
        raise RuntimeError(f"not within {timeout} s: {expression}")

    def open(self, url):
        self.call("Page.navigate", url=url)
        time.sleep(0.2)
        self.wait("document.readyState === 'complete'", 20)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--base", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--down", required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--drain", required=True)
    parser.add_argument("--screenshot", required=True)
    args = parser.parse_args()
    report = {}
    profile = tempfile.mkdtemp(prefix="piswarm-chromium-")
    browser = subprocess.Popen(
        [args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
         "--window-size=1280,860", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        end = time.monotonic() + 30
        while port is None and time.monotonic() < end:
            line = browser.stderr.readline()
            if not line and browser.poll() is not None:
                raise RuntimeError("chromium ended before it listened")
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if match:
                port = int(match.group(1))
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(WebSocket(target["webSocketDebuggerUrl"]))
        page.call("Page.enable")

        # Log in with the one-time link: it leads to the rack.
        page.open(args.login)
        page.wait("location.pathname === '/' && document.querySelectorAll('.tile').length > 0", 20)
        report["tiles"] = page.eval("[...document.querySelectorAll('.tile')].map(t => t.id)")
        report["loggedIn"] = page.eval("!!document.querySelector('form[action=\"/logout\"]')")
        page.wait("[...document.querySelectorAll('.tile')].every(t => t.dataset.status === 'up')", 60)
        page.eval("window.piswarmLoad = 'first'; true")

        # Stop a node: its tile turns down without a reload.
        started = time.monotonic()
        stop = subprocess.run(shlex.split(args.stop), capture_output=True, text=True, timeout=120)
        report["stopStatus"] = stop.returncode
        stopped = time.monotonic()
        page.wait(f"document.getElementById('tile-{args.down}').dataset.status === 'down'", 30, step=0.05)
        report["downAfterStopCommand"] = round(time.monotonic() - stopped, 2)
        report["downAfterStopStarted"] = round(time.monotonic() - started, 2)
        report["downReasons"] = page.eval(f"document.querySelector('#tile-{args.down} .why').innerText")
        report["reloaded"] = page.eval("window.piswarmLoad !== 'first'")

        # Drain through the page: the button, then the confirmation.
        page.eval(f"document.querySelector('#tile-{args.drain} form[data-action=drain] button').click(); true")
        page.wait("!!document.querySelector('form[data-confirm=drain]')", 20)
        report["confirmTitle"] = page.eval("document.querySelector('h1').innerText")
        page.eval("document.querySelector('form[data-confirm=drain] button').click(); true")
        page.wait("!!document.getElementById('outcome')", 150, step=0.25)
        report["drainOk"] = page.eval("document.getElementById('outcome').dataset.ok")
        report["drainMessage"] = page.eval("document.getElementById('outcome').innerText")

        # Back to the rack for the picture: the drained tile says so.
        page.open(args.base + "/")
        page.wait(f"(document.querySelector('#tile-{args.drain} .why') || {{}}).innerText?.includes('drained')", 20)
        time.sleep(1)
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        report["screenshot"] = args.screenshot
    except Exception as error:  # the report says what failed; the test asserts on it
        report["error"] = str(error)
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
