"""JupyterLab in a real browser: open notebook 01, run every cell, check the rendered outputs, take a screenshot.

Run with ``make test-browser`` (not part of ``make unit``: marked ``browser``, deselected by default). Needs
Debian's ``chromium`` and ``chromium-driver``; Selenium is pointed at them explicitly, so Selenium Manager never
looks for (or downloads) a browser or driver. JupyterLab starts from this interpreter on 127.0.0.1 with a random
token and the project's settings from ``notebooks/lab-settings/``, in temporary user folders, and is shut down
at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib import paths

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
NOTEBOOK = "01_data_preparation.ipynb"
SCREENSHOT = paths.SAVED / "browser" / "01_data_preparation.png"
RUN_TIMEOUT = float(os.environ.get("EVN_BROWSER_TIMEOUT", "900"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_settings(tmp: Path) -> Path:
    """The project's JupyterLab settings in a temporary folder; notebooks render every cell (no windowing)."""
    settings = tmp / "app-settings"
    settings.mkdir()
    overrides = json.loads((paths.NOTEBOOKS / "lab-settings" / "overrides.json").read_text())
    overrides["@jupyterlab/notebook-extension:tracker"] = {"windowingMode": "none"}  # every output in the page
    (settings / "overrides.json").write_text(json.dumps(overrides))
    config = tmp / "config"
    config.mkdir()
    shutil.copy(paths.NOTEBOOKS / "lab-settings" / "jupyter_lab_config.json", config / "jupyter_lab_config.json")
    return settings


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1; yields its base URL with the token; shut down afterwards."""
    port, token = free_port(), secrets.token_hex(24)
    settings = lab_settings(tmp_path)
    root = tmp_path / "notebooks"  # a copy: JupyterLab saves what it runs, the committed notebook stays stripped
    root.mkdir()
    shutil.copy(paths.NOTEBOOKS / NOTEBOOK, root / NOTEBOOK)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "user-config"),
           "JUPYTER_CONFIG_PATH": str(tmp_path / "config"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.app_settings_dir={settings}", *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
            time.sleep(1)
        yield f"{base}|{token}"
    finally:
        try:
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=10).close()
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            server.terminate()
            server.wait(timeout=30)
        log.close()


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download anything
    os.environ["SE_AVOID_STATS"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def click_menu(driver, menu: str, item: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{menu}']").click()
    time.sleep(0.5)
    driver.find_element(By.XPATH, f"//div[contains(@class,'lm-Menu-itemLabel') and text()='{item}']").click()


def prompts(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt")
    return [c.get_attribute("textContent").strip() for c in cells]


def test_notebook_runs_in_jupyterlab(lab: str) -> None:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver")
    pytest.importorskip("selenium")
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, token = lab.split("|")
    driver = chromium()
    try:
        driver.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        WebDriverWait(driver, 180).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")))
        try:  # the kernel has started when the toolbar's execution indicator says idle
            WebDriverWait(driver, 180).until(lambda d: d.find_element(
                By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator").get_attribute("data-status") == "idle")
        except TimeoutException:
            pass  # the indicator is optional in the toolbar; running all cells still waits for the kernel
        time.sleep(2)
        click_menu(driver, "Run", "Run All Cells")
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            shown = prompts(driver)
            if shown and all(p.startswith("[") and p[1:-2].isdigit() for p in shown):
                break
            if time.monotonic() > deadline:
                driver.save_screenshot(str(SCREENSHOT.with_name("timeout.png")))
                pytest.fail(f"cells not all executed after {RUN_TIMEOUT:.0f} s: {shown}; page in {SCREENSHOT.parent}")
            time.sleep(2)
        errors = driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [e.text[:500] for e in errors if "Traceback" in e.text or "Error" in e.text.split("\n")[0]]
        assert not tracebacks, f"error outputs in the rendered notebook: {tracebacks}"
        images = driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img")
        assert images, "no figure (<img>) in any output area"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", images[0])
        time.sleep(1)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(SCREENSHOT)) and SCREENSHOT.stat().st_size > 10_000
        print(f"{len(shown)} cells executed, {len(images)} figure(s); screenshot {SCREENSHOT}")
    finally:
        driver.quit()
