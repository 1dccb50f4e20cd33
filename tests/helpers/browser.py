"""Opening a page in headless Chromium with the network cut off, and reading back what it
drew and what went wrong on its console.

Chromium is driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`:
JSON messages ended by a NUL byte, commands on the child's fd 3, replies and events on its
fd 4), so nothing beyond the Debian package is needed: no driver, no browser download.
Every request to the network goes to a proxy on a closed loopback port and fails; pages
and files on disk load as usual.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "chromium-headless-shell")
INSTALL = "apt-get install chromium"

FLAGS = [
    "--headless",
    "--no-sandbox",  # Chromium refuses to start as root otherwise
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    # no network: every request goes to a proxy on a closed port (9, discard); `<-loopback>`
    # removes the implicit bypass for localhost, so nothing at all gets through
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-pipe",
]


def find_chromium() -> str | None:
    """The Chromium executable ($CHROMIUM, or the first of NAMES on PATH), or None."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((path for name in NAMES if (path := shutil.which(name))), None)


@dataclass
class PageReport:
    """What a page showed once it settled."""

    marks: dict[str, int]  # id of each top-level <div> of <body> -> drawn charts inside it
    errors: list[str] = field(default_factory=list)  # exceptions, console errors, failed loads
    warnings: list[str] = field(default_factory=list)  # console warnings (not failures)


class _Pipe:
    """The DevTools protocol over the two pipes of one Chromium process."""

    def __init__(self, executable: str, profile: Path):
        to_child, self._commands = os.pipe()
        self._events, from_child = os.pipe()

        def in_child() -> None:  # the protocol's fixed descriptors: commands 3, events 4
            read, write = os.dup(to_child), os.dup(from_child)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self._log = profile / "chromium.log"  # its stderr, quoted when it fails
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(3, 4),
                preexec_fn=in_child,
            )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Chromium did not answer in time{self._tail()}")
            if select.select([self._events], [], [], left)[0]:
                chunk = os.read(self._events, 1 << 16)
                if not chunk:
                    code = self.process.wait(timeout=10)
                    raise ConnectionError(f"Chromium exited ({code}){self._tail()}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _tail(self, lines: int = 20) -> str:
        text = self._log.read_text(errors="replace").splitlines()[-lines:]
        return "; its last output:\n" + "\n".join(text) if text else ""

    def call(self, method: str, params: dict | None = None, session: str | None = None):
        """Send one command and wait for its reply; events met meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._receive(deadline)
            if reply.get("id") != self._next_id:
                self.events.append(reply)
            elif "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            else:
                return reply["result"]

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._receive(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.process.wait(timeout=10)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._commands)
            os.close(self._events)


# per top-level <div> of <body>: how many charts vega drew in it (a canvas or an svg of
# class "marks"; the svg icon of vega-embed's action menu does not count)
_COUNT_MARKS = """
Object.fromEntries([...document.querySelectorAll('body > div[id]')].map(div => [
  div.id,
  [...div.querySelectorAll('canvas.marks, svg.marks')]
    .filter(el => el.getBoundingClientRect().width > 0).length,
]))
"""


def _describe(event: dict) -> tuple[str, str] | None:
    """("error" | "warning", text) for an event worth reporting, else None."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text", "")
        where = f"{details.get('url', '')}:{details.get('lineNumber', -1) + 1}"
        return "error", f"{text.splitlines()[0] if text else 'exception'} ({where})"
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert", "warning"):
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return ("warning" if params["type"] == "warning" else "error"), f"console: {text}"
    if method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
        entry = params["entry"]
        text = f"{entry['source']}: {entry['text']} {entry.get('url', '')}".strip()
        return ("error" if entry["level"] == "error" else "warning"), text
    return None


def open_page(executable: str, page: Path, timeout: float = 60) -> PageReport:
    """Load `page` (a file) with no network, wait until every top-level <div> of its body
    holds a drawn chart, an error is reported or `timeout` seconds pass; what it showed."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = _Pipe(executable, Path(profile))
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attach = {"targetId": target, "flatten": True}
            session = browser.call("Target.attachToTarget", attach)["sessionId"]
            for domain in ("Runtime", "Log", "Page"):
                browser.call(f"{domain}.enable", session=session)
            browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
            browser.wait_for("Page.loadEventFired", timeout)
            deadline = time.monotonic() + timeout
            while True:
                marks = browser.call(
                    "Runtime.evaluate",
                    {"expression": _COUNT_MARKS, "returnByValue": True},
                    session=session,
                )["result"]["value"]
                found = [d for e in browser.events if (d := _describe(e))]
                failed = any(kind == "error" for kind, _ in found)
                if failed or all(marks.values()) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            browser.close()
    return PageReport(
        marks=marks,
        errors=[text for kind, text in found if kind == "error"],
        warnings=[text for kind, text in found if kind == "warning"],
    )
