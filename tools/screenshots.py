#!/usr/bin/env python3
"""Screenshots of the running dashboard for the README, taken in headless Chromium.

``python tools/screenshots.py --url http://127.0.0.1:8069 --password PASSWORD [options]``
against a running Odoo (``make demo`` prints the URL and the password). It logs in over
JSON-RPC (``/web/session/authenticate``), starts headless Chromium (``chromium`` or
``google-chrome`` on the ``PATH``, or ``--chromium``) and drives it through the DevTools
protocol: the session cookie set, the dashboard's client action opened, then it waits until
every widget has rendered (no loading state left, the page unchanged for a moment) and saves
a PNG per shot into ``--out`` (default ``docs/images``):

- ``dashboard.png``: the whole dashboard, default period;
- ``dashboard-365.png``: the same after choosing the last 365 days in the period picker
  (skipped when the picker is not found).

Needs ``websocket-client`` (Odoo's browser tests use it too: run it with Odoo's Python).
"""

import argparse
import base64
import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The dashboard's client action (perf_core).
ACTION = "perf_core.perf_dashboard_client_action"
#: The dashboard's root element, its widgets, and what a widget shows while it loads.
DASHBOARD = ".o_perf_dashboard"
WIDGET = ".o_perf_dashboard_widget"
LOADING = ", ".join(
    f"{DASHBOARD} {s}"
    for s in (".fa-spin", ".o_perf_dashboard_loading", ".o_perf_dashboard_widget_spinner")
)


def login(base, db, user, password):
    """The ``session_id`` of a fresh session, from JSON-RPC ``/web/session/authenticate``
    (``db`` empty: the server's only database)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def rpc(path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1})
        request = urllib.request.Request(
            base + path, body.encode(), {"Content-Type": "application/json"}
        )
        with opener.open(request, timeout=60) as response:
            return json.loads(response.read())

    if not db:
        databases = rpc("/web/database/list", {}).get("result") or []
        if len(databases) != 1:
            raise SystemExit(f"give --db: the server lists {databases or 'no database'}")
        db = databases[0]
    answer = rpc("/web/session/authenticate", {"db": db, "login": user, "password": password})
    if answer.get("error") or not (answer.get("result") or {}).get("uid"):
        raise SystemExit(f"login refused: {answer.get('error') or answer.get('result')}")
    for cookie in jar:
        if cookie.name == "session_id":
            return cookie.value
    raise SystemExit("no session cookie in the login answer")


class Browser:
    """Headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, binary, width, height):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="perf-shots-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [t for t in json.loads(r.read()) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise SystemExit("Chromium did not open its DevTools port")
            time.sleep(0.2)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.ids = 0
        self.width, self.height = width, height

    def send(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait(self, expression, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.25)
        raise SystemExit(f"timed out after {seconds} s waiting for {what}")

    def settle(self, seconds=60, quiet=1.5):
        """Wait until nothing loads and the page's markup stays unchanged for ``quiet`` s."""
        deadline, last, since = time.monotonic() + seconds, None, time.monotonic()
        while time.monotonic() < deadline:
            state = self.evaluate(
                f"[document.querySelectorAll({json.dumps(LOADING)}).length,"
                f" document.querySelector({json.dumps(DASHBOARD)})?.innerHTML.length || 0]"
            )
            if state != last or state[0]:
                last, since = state, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.25)
        raise SystemExit("the dashboard kept loading")

    def shot(self, path):
        """The whole page (its full height) as a PNG."""
        height = self.evaluate(
            f"Math.max(document.querySelector({json.dumps(DASHBOARD)})?.scrollHeight || 0,"
            " document.documentElement.scrollHeight)"
        )
        height = max(self.height, int(height or 0) + 60)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.5)  # Chart.js resizes to the new viewport
        self.settle(quiet=1.0)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shown = os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path
        print(f"saved {shown} ({self.width}x{height})")

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tools/screenshots.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="", help="database (default: the server's only one)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--action", default=ACTION)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "images"))
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--chromium", default="")
    args = parser.parse_args(argv)
    binary = args.chromium or next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if not binary:
        raise SystemExit("no chromium / google-chrome on the PATH (or give --chromium)")
    base = args.url.rstrip("/")
    session = login(base, args.db, args.login, args.password)
    os.makedirs(args.out, exist_ok=True)
    browser = Browser(binary, args.width, args.height)
    try:
        browser.send("Page.enable")
        browser.send("Network.enable")
        browser.send("Network.setCookie", name="session_id", value=session, url=base)
        browser.send("Page.navigate", url=f"{base}/web#action={args.action}")
        browser.wait(
            f"document.querySelectorAll({json.dumps(WIDGET)}).length > 0", 120, "the widgets"
        )
        browser.settle()
        browser.shot(os.path.join(args.out, "dashboard.png"))
        # The period picker: a button or option labelled 365.
        clicked = browser.evaluate(
            f"(() => {{ const el = [...document.querySelectorAll({json.dumps(DASHBOARD)}"
            " + ' button, ' + " + json.dumps(DASHBOARD) + " + ' option')]"
            ".find(e => /365/.test(e.textContent)); if (!el) return false;"
            " if (el.tagName === 'OPTION') { el.selected = true;"
            " el.parentElement.dispatchEvent(new Event('change', {bubbles: true})); }"
            " else { el.click(); } return true; })()"
        )
        if clicked:
            time.sleep(0.5)
            browser.settle()
            browser.shot(os.path.join(args.out, "dashboard-365.png"))
        else:
            print("no 365-day choice in the period picker: dashboard-365.png not taken")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
