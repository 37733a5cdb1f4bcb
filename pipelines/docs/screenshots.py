"""`make screenshots`: regenerate the pictures in docs/screenshots/ with headless Chromium.

It builds the demo warehouse when there is none (the Dagster UI needs recorded materializations, the KPI report needs
the marts), writes the docs catalog into a temporary folder, starts `dagster-webserver` on a free localhost port,
and drives one headless Chromium over the DevTools protocol: the Dagster UI is a JavaScript app that renders after
its queries return, and the lineage table of a materialization opens in a dialog only when clicked, which
`chromium --screenshot` cannot wait for or do. The protocol is spoken with `websockets`, which dagster-webserver
already installs, so no browser automation package (and no browser download) is needed. Each picture is reduced
to 256 colours, which keeps the screenshots small in the repository.

Chromium comes from Debian (`make screenshots` installs it when missing); nothing here runs in `make test`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from pipelines.docs.html_catalog import generate
from pipelines.docs.report import REPORT_FILE
from pipelines.spec.settings import PROJECT_ROOT, Settings

SCREENSHOTS_DIR = PROJECT_ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
WINDOW = (1400, 900)
# The flags of a quiet, throwaway browser: no first-run screens, no background traffic, no GPU on a server.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # every request here is to localhost


@dataclass(frozen=True)
class Shot:
    """One screenshot: the page, a script that is true once it has rendered, and an optional click before it.

    `url` may name `{dagster}` (the web server's address) and `{catalog}` / `{report}` (file URLs).
    """

    file: str
    url: str
    ready: str
    click: str = ""  # a script that clicks, returning whether it found what to click
    after_click: str = ""  # a script that is true once the click's result has rendered
    height: int = WINDOW[1]


def _has_text(*texts: str) -> str:
    return " && ".join(f"document.body.innerText.includes({json.dumps(text)})" for text in texts)


# The button of the Markdown lineage table in a materialization's metadata (the row named column_lineage_table).
_CLICK_LINEAGE_TABLE = """(() => {
  const row = Array.from(document.querySelectorAll('tr')).find((tr) => tr.innerText.includes('column_lineage_table'));
  const button = row && Array.from(row.querySelectorAll('button, a')).find((b) => b.innerText.includes('Markdown'));
  if (button) button.click();
  return Boolean(button);
})()"""

SHOTS = (
    Shot(
        "dagster_asset_graph.png",
        "{dagster}/assets/intermediate/int_leads_classified?view=lineage&lineageScope=neighbors&lineageDepth=1",
        _has_text("Graph depth", "fct_lead_funnel", "channel_mapping"),
    ),
    Shot(
        "dagster_asset_lineage_table.png",
        "{dagster}/assets/marts/rpt_funnel_monthly?view=events",
        _has_text("column_lineage_table", "Materialized in run"),
        click=_CLICK_LINEAGE_TABLE,
        after_click="Boolean(document.querySelector('[role=dialog]')) && " + _has_text("aggregated"),
    ),
    Shot("kpi_report.png", "{report}", "document.readyState === 'complete'"),
    Shot(
        "catalog_lineage_graph.png",
        "{catalog}/lineage.html#column=marts.fct_opportunity_outcomes.sales_cycle_days&depth=2",
        "Boolean(document.querySelector('#lineage-graph svg'))",
        height=1000,
    ),
    Shot("catalog_search.png", "{catalog}/index.html?q=mql", "Boolean(document.querySelector('#search-results li'))"),
)


# --- The browser -----------------------------------------------------------------------------------------------------


class Browser:
    """One page of a headless Chromium, driven over the DevTools protocol."""

    def __init__(self, socket_: ClientConnection) -> None:
        self._socket = socket_
        self._next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, skipping the events that arrive meanwhile."""
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=120))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, script: str) -> Any:
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, script: str, what: str, timeout: float = 90.0) -> None:
        """Poll until the script is true; then give the page a moment to finish drawing (animations, layout)."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(script):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not rendered after {timeout:.0f} s ({script})")
            time.sleep(0.5)
        time.sleep(1.5)

    def open(self, url: str, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=height, deviceScaleFactor=1, mobile=False
        )
        self.call("Page.navigate", url=url)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


@contextmanager
def browser(chromium: str) -> Iterator[Browser]:
    """A headless Chromium with a new profile in a temporary folder, closed (and the folder removed) afterwards."""
    with tempfile.TemporaryDirectory(prefix="flywheel-chromium-") as profile:
        args = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        args += [f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(Path(profile), process)
            targets = json.loads(_NO_PROXY.open(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
            page = next(target for target in targets if target.get("type") == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None) as socket_:
                yield Browser(socket_)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """The port Chromium chose for the DevTools protocol: the first line of DevToolsActivePort in its profile."""
    deadline = time.monotonic() + timeout
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with code {process.returncode}")
        if marker.is_file() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.2)
    raise TimeoutError("chromium did not open its DevTools port")


# --- Dagster's web server --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return dict(json.loads(_NO_PROXY.open(request, timeout=10).read()).get("data") or {})


def _loaded(port: int) -> bool:
    """Whether the server answers and has loaded the project's code location."""
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
    try:
        entries = _graphql(port, query)["workspaceOrError"]["locationEntries"]
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return bool(entries) and all(entry["loadStatus"] == "LOADED" for entry in entries)


@contextmanager
def dagster_webserver(env: dict[str, str], log: Path, timeout: float = 240.0) -> Iterator[str]:
    """`dagster-webserver` on a free localhost port, in the background, until the block ends; yields its address.

    The community sign-up dialog the UI shows on localhost is marked as seen first, so it covers no screenshot.
    """
    port = free_port()
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _loaded(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace").splitlines()[-20:]
                    raise RuntimeError("dagster-webserver did not start:\n" + "\n".join(tail))
                time.sleep(1)
            _graphql(port, "mutation { setNuxSeen }")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=60)


# --- Putting it together ---------------------------------------------------------------------------------------------


def ensure_warehouse(settings: Settings, env: dict[str, str], rebuild: bool) -> Path:
    """The KPI report of a demo build recorded in DAGSTER_HOME: `flywheel run` first when either is missing."""
    report = settings.published_dir / REPORT_FILE
    runs = Path(env["DAGSTER_HOME"]) / "storage"
    if rebuild or not report.is_file() or not runs.is_dir():
        print("building the demo warehouse (flywheel run)", flush=True)
        subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], cwd=PROJECT_ROOT, env=env, check=True)
    return report


def shrink(path: Path) -> None:
    """Reduce a screenshot to 256 colours when that makes it smaller (UI pictures lose nothing visible)."""
    from PIL import Image  # installed with matplotlib, which the KPI report needs

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    smaller = path.with_suffix(".tmp.png")
    reduced.save(smaller, optimize=True)
    if smaller.stat().st_size < path.stat().st_size:
        os.replace(smaller, path)
    else:
        smaller.unlink()


def take(page: Browser, shot: Shot, places: dict[str, str], out_dir: Path) -> Path:
    """Open the shot's page, wait for it to render, click if it must, and save the picture."""
    page.open(shot.url.format(**places), shot.height)
    page.wait_for(shot.ready, shot.file)
    if shot.click:
        if not page.evaluate(shot.click):
            raise RuntimeError(f"{shot.file}: nothing to click ({shot.click})")
        page.wait_for(shot.after_click, shot.file)
    path = out_dir / shot.file
    page.screenshot(path)
    shrink(path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/screenshots/ with headless Chromium.")
    parser.add_argument("--out", type=Path, default=SCREENSHOTS_DIR, help="output folder (default: docs/screenshots)")
    parser.add_argument("--rebuild", action="store_true", help="build the demo warehouse even when one exists")
    parser.add_argument("--chromium", default=shutil.which("chromium") or CHROMIUM, help="the Chromium executable")
    args = parser.parse_args(argv)
    if not Path(args.chromium).is_file():
        parser.error(f"no Chromium at {args.chromium}: install it (make screenshots does: apt-get install chromium)")
    settings = Settings.from_env()
    env = {**os.environ, "DAGSTER_HOME": os.environ.get("DAGSTER_HOME") or str(PROJECT_ROOT / "dagster_home")}
    report = ensure_warehouse(settings, env, args.rebuild)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flywheel-screenshots-") as work:
        catalog = Path(work) / "catalog"
        generate(
            catalog, settings.models_dir, settings.sources_file, settings.definitions_file, settings.expectations_dir
        )
        with dagster_webserver(env, Path(work) / "dagster-webserver.log") as dagster, browser(args.chromium) as page:
            places = {"dagster": dagster, "catalog": catalog.as_uri(), "report": report.resolve().as_uri()}
            for shot in SHOTS:
                path = take(page, shot, places, args.out)
                print(f"{path}: {path.stat().st_size // 1024} KB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
