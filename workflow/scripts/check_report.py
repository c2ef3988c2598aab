"""Open the assembled report in a headless Chromium as a reader would and check it (issue 23).

    python workflow/scripts/check_report.py results/report/index.html [--width 1280] [--screenshot first.png]

Checks, at the given window width: the page does not scroll sideways (its scroll width fits the window), every image
loaded (natural width > 0), every relative link and image source resolves to a file, and every in-page link
(#anchor) has its target.
Prints one line per problem and exits 1 when there is any, 0 otherwise. Needs Debian's ``chromium`` (or
``chromium-browser``, ``google-chrome``) on PATH; exits 2 naming what is missing otherwise.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from dltheory.report import BROWSERS, broken_links, browser

# Runs in the page after load: what the checks need, written into the DOM that --dump-dom prints.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images).map(
    i => ({src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0}));
  const result = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, images: images};
  const node = document.createElement("pre");
  node.id = "report-check";
  node.textContent = JSON.stringify(result);
  document.body.appendChild(node);
});
</script>"""


def probe(page: Path, width: int, height: int = 800) -> dict:
    """Load ``page`` at ``width`` px in headless Chromium; the probe's measurements."""
    chromium = browser()
    if chromium is None:
        raise FileNotFoundError(f"no headless browser on PATH (tried {', '.join(BROWSERS)}; "
                                "Debian: apt install chromium)")
    # A copy beside the page, so its relative links resolve as the page's do.
    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent, delete=False) as handle:
        handle.write(page.read_text().replace("</body>", PROBE + "</body>"))
        copy = Path(handle.name)
    try:
        result = subprocess.run(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={width},{height}", "--virtual-time-budget=15000", "--dump-dom", copy.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        copy.unlink(missing_ok=True)
    found = re.search(r'<pre id="report-check">(.*?)</pre>', result.stdout, re.S)
    if not found:
        raise RuntimeError(f"the browser printed no measurement (exit {result.returncode}): {result.stderr[-500:]}")
    return json.loads(html.unescape(found.group(1)))


def check(page: Path, width: int = 1280) -> list[str]:
    """Every problem found, one line each."""
    problems = [f"broken link: {link}" for link in broken_links(page)]
    measured = probe(page, width)
    if measured["scrollWidth"] > measured["innerWidth"]:
        problems.append(f"scrolls sideways at {width} px: content {measured['scrollWidth']} px wide")
    problems += [f"image did not load: {image['src']}" for image in measured["images"] if not image["ok"]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--screenshot", type=Path, help="also save the first screen (width x 800) here")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"error: {args.page}: no such report", file=sys.stderr)
        return 2
    try:
        problems = check(args.page, args.width)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.screenshot:
        subprocess.run([browser(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={args.width},800", f"--screenshot={args.screenshot.resolve()}",
                        args.page.resolve().as_uri()], capture_output=True, timeout=120)
    for problem in problems:
        print(problem)
    print(f"{args.page}: {'OK' if not problems else f'{len(problems)} problems'} at {args.width} px")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
