"""Debian Chromium driven by Playwright, with a fake webcam fed from a real video (a .y4m made
with ffmpeg at run time). Shared by the browser tests and bench/."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("POSECAST_CHROMIUM", "/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
ARGS = [
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    # Any lookup but loopback fails, so nothing can leave the machine even by accident.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def missing_tools() -> list[str]:
    return [tool for tool in (CHROMIUM, "ffmpeg") if not shutil.which(tool)]


def make_y4m(source: Path, dest: Path, *, fps: float | None = None, still_seconds: float | None = None) -> Path:
    """Convert a video (or loop a still image) into the raw .y4m that Chromium's fake camera plays."""
    if dest.exists():
        return dest
    cmd = ["ffmpeg", "-loglevel", "error", "-y"]
    if still_seconds:
        cmd += ["-loop", "1", "-t", str(still_seconds), "-framerate", str(fps or 10)]
    cmd += ["-i", str(source)]
    filters = []
    if fps and not still_seconds:
        filters.append(f"fps={fps}")
    # y4m 4:2:0 needs even dimensions.
    filters.append("scale=trunc(iw/2)*2:trunc(ih/2)*2")
    cmd += ["-vf", ",".join(filters), "-pix_fmt", "yuv420p", str(dest)]
    subprocess.run(cmd, check=True)
    return dest


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("blob", "data"):
        return True
    return parts.hostname in LOOPBACK


@contextlib.contextmanager
def chromium(playwright, *, camera: Path | None = None, camera_allowed: bool = True, extra_args=()):
    """A headless Chromium; with `camera`, getUserMedia plays that .y4m file."""
    args = list(ARGS) + list(extra_args)
    if camera is not None:
        args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        if camera_allowed:
            args.append("--use-fake-ui-for-media-stream")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield browser
    finally:
        browser.close()


class RecordedPage:
    """A page that records every request it makes and every page error."""

    def __init__(self, page):
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.encodings: dict[str, str] = {}  # url -> Content-Encoding of its response ('' for none)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.encodings.__setitem__(r.url, r.headers.get("content-encoding", "")))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def outside_loopback(self) -> list[str]:
        return sorted({u for u in self.requests if not is_loopback(u)})

    def state(self, expr: str = "posecast"):
        return self.page.evaluate(f"() => window.posecast && JSON.parse(JSON.stringify({expr}))")

    def wait_for(self, js_condition: str, timeout_s: float = 45) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                f"() => window.posecast && ({js_condition})", timeout=timeout_s * 1000, polling=100)
        except PlaywrightTimeout:
            summary = self.page.evaluate(
                "() => window.posecast ? {status: posecast.status, message: posecast.message, source: posecast.source,"
                " backbone: posecast.backbone, estimates: posecast.estimates} : 'window.posecast missing'")
            raise AssertionError(f"waited {timeout_s}s for {js_condition!r}; page state {summary}; "
                                 f"page errors {self.errors}") from None


def login_context(context, base_url: str, username: str, password: str) -> None:
    """Log a browser context in through the API (it shares the context's cookies)."""
    token = context.request.get(f"{base_url}/api/me").json()["csrf_token"]
    r = context.request.post(f"{base_url}/api/login", data={"username": username, "password": password},
                             headers={"X-CSRF-Token": token})
    assert r.ok, r.text()


def open_page(browser, url: str, *, grant_camera: bool = False, login: tuple[str, str] | None = None) -> RecordedPage:
    """A new context and page at `url`; with `login` (username, password), logged in first."""
    context = browser.new_context(viewport={"width": 1100, "height": 900},
                                  permissions=["camera"] if grant_camera else [])
    if login:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        login_context(context, f"{parts.scheme}://{parts.netloc}", *login)
    page = RecordedPage(context.new_page())
    page.page.goto(url)
    return page


LOAD_BOTH_JS = """async ([url, rows]) => {
  const model = await tf.loadLayersModel(url + 'model.json');
  const out = model.predict(tf.tensor2d(rows));
  const probs = await out.array();
  out.dispose();
  const nn = ml5.neuralNetwork({ task: 'classification' });
  await nn.load({ model: url + 'model.json', metadata: url + 'model_meta.json', weights: url + 'model.weights.bin' });
  const ml5Results = [];
  for (const row of rows) ml5Results.push(await nn.classify(row));
  return { probs, ml5: ml5Results };
}"""


def load_in_tfjs_and_ml5(page: RecordedPage, url: str, rows) -> dict:
    """An exported ml5 set (url: its folder, ending in /) loaded by TF.js's loadLayersModel and by
    ml5.neuralNetwork on a ready page, both run on rows: {probs, ml5: [[{label, confidence}]]}."""
    return page.page.evaluate(LOAD_BOTH_JS, [url, [list(map(float, r)) for r in rows]])
