"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``): no
websocket, no driver binary, nothing but the standard library. Used by the quiz's browser test and
``benchmarks/bench_quiz_page.py``."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe"]


def chromium() -> str | None:
    """The Chromium binary, or ``None`` if none is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page; :meth:`call` sends a DevTools command to the page."""

    def __init__(self, profile: Path, downloads: Path | None = None, timeout: float = 60) -> None:
        binary = chromium()
        if binary is None:
            raise RuntimeError("chromium is not installed")
        to_child, self._out = os.pipe()  # we write commands on _out; Chromium reads them on its fd 3
        self._in, from_child = os.pipe()  # Chromium writes on its fd 4; we read on _in

        def fds() -> None:  # in the child: its fds 3 and 4 are the pipes' ends (dup2 makes them inheritable)
            a, b = os.dup(to_child), os.dup(from_child)  # out of the way of 3 and 4 first
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child), os.close(from_child)
        self.timeout, self._next, self._buffer, self.events = timeout, 0, b"", []
        if downloads is not None:
            self.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads),
                                                      "eventsEnabled": True})
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """A DevTools command (to the browser, or to ``session``); its result, events kept in :attr:`events`."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def call(self, method: str, params: dict | None = None) -> dict:
        """A DevTools command to the page."""
        return self.send(method, params, self.session)

    def wait_event(self, method: str, check=lambda params: True) -> dict:
        """The next event ``method`` (kept or arriving) whose params pass ``check``."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for k, event in enumerate(self.events):
                if event.get("method") == method and check(event.get("params", {})):
                    del self.events[: k + 1]
                    return event["params"]
            self.events.append(self._read())
        raise TimeoutError(f"no {method} within {self.timeout} s")

    def js(self, expression: str, gesture: bool = True):
        """Evaluate ``expression`` in the page (a promise is awaited) and return its value."""
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True,
                                               "userGesture": gesture})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def load(self, url: str | None = None) -> None:
        """Open ``url`` (``None``: reload) and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", {"url": url}) if url else self.call("Page.reload")
        self.wait_event("Page.loadEventFired")

    def screenshot(self, path: Path) -> Path:
        import base64

        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"]))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._in), os.close(self._out)
