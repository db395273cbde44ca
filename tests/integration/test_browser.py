"""JupyterLab as a learner meets it: the server `make lab` starts serves notebook 00; a real browser (Debian's
Chromium, driven by Playwright through its executable path: no browser download) opens it, runs its first code
cells the way a learner does (Shift+Enter), and reads what they print.

Skipped, with one line, where Chromium or Playwright is missing (`.ci/run` installs both)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from iotlab.core.paths import project_root

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium on a machine without internet: no background connections, updates or sync (each would be refused).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyter_lab(tmp_path):
    """JupyterLab as `make lab` starts it (loopback only, a token), on a free port, serving a copy of notebook 00
    (the learner's copy in the repository is never touched); its URL and token. Stopped with its kernels after."""
    shutil.copy(project_root() / "notebooks" / "00_welcome_and_lab_check.ipynb", tmp_path)
    port, token = free_port(), uuid.uuid4().hex
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
    if os.geteuid() == 0:
        command.append("--allow-root")  # as `make lab` does when run as root
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/api/status", params={"token": token}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            time.sleep(0.5)
        yield url, token
    finally:
        server.send_signal(signal.SIGINT)  # Jupyter's own shutdown: it ends its kernels
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(server.pid, signal.SIGKILL)  # whatever it left in its session
        except ProcessLookupError:
            pass


def wait_for_idle_kernel(url: str, token: str, timeout_s: float = 120) -> None:
    """Until the notebook's kernel has started and is idle, as the server reports it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sessions = requests.get(f"{url}/api/sessions", params={"token": token}, timeout=5).json()
        if sessions and all(session["kernel"]["execution_state"] == "idle" for session in sessions):
            return
        time.sleep(0.5)
    raise AssertionError(f"the notebook's kernel was not idle within {timeout_s:.0f} s")


def test_a_browser_opens_notebook_00_runs_its_first_cells_and_reads_their_output(jupyter_lab):
    if CHROMIUM is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    url, token = jupyter_lab
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/lab/tree/00_welcome_and_lab_check.ipynb?token={token}")
            code_cells = page.locator(".jp-Notebook .jp-CodeCell")
            code_cells.first.wait_for(timeout=120_000)
            wait_for_idle_kernel(url, token)  # the page shows "idle" before its kernel has started
            outputs = []
            for index in (0, 1):  # the lab check, then the first 100 simulated readings
                cell = code_cells.nth(index)
                cell.locator(".jp-InputArea-editor").click()
                page.keyboard.press("Shift+Enter")
                output = cell.locator(".jp-OutputArea-output").first
                output.wait_for(timeout=180_000)
                page.wait_for_function(
                    "cell => !cell.querySelector('.jp-InputPrompt').textContent.includes('*')",
                    arg=cell.element_handle(), timeout=180_000)
                outputs.append(cell.locator(".jp-OutputArea").inner_text())
        finally:
            browser.close()
    doctor, readings = outputs
    assert "kafka" in doctor.lower() and "cassandra" in doctor.lower() and "Error" not in doctor, doctor
    assert "'device_id': 'device-" in readings and "'temperature':" in readings, readings
