"""Quote search in report.html on a large round, in headless Chromium.

Renders the reports of a finished run folder (unless --no-render), opens report.html from
disk, types a query into the search box and measures, in the page, the time from the input
event to the result list being filled (first search: includes folding every unit's text
once) and a second query (the folded texts reused). Prints the HTML size, the units in the
search index, the page's load time and both search times, and the peak memory of this process.

    .venv/bin/python bench/report_search.py RUN_DIR --query 電價 --query 工作
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1500"]

# Runs in the page: type the query, wait for the result status, return milliseconds.
SEARCH_JS = """
const q = arguments[0], done = arguments[arguments.length - 1];
const box = document.getElementById('f-q'), status = document.getElementById('sr-status');
box.value = ''; box.dispatchEvent(new Event('input'));
const t0 = performance.now();
box.value = q; box.dispatchEvent(new Event('input'));
requestAnimationFrame(() => done({ms: performance.now() - t0, status: status.textContent,
  shown: document.querySelectorAll('#sr-list li').length}));
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--query", action="append", default=None)
    ap.add_argument("--no-render", action="store_true")
    args = ap.parse_args()
    queries = args.query or ["電價", "工作"]
    html = args.run_dir / "report.html"
    if not args.no_render:
        from pipeline.config import load_config
        from pipeline.report import render_report

        t = time.perf_counter()
        render_report(args.run_dir, load_config(None, ["report.formats=[html]"]))
        print(f"render html: {time.perf_counter() - t:.1f} s")
    text = html.read_text(encoding="utf-8")
    data = json.loads(text.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    print(f"report.html: {html.stat().st_size / 1e6:.2f} MB; units in the search index: "
          f"{len(data['units']['t'])}")

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in FLAGS:
        opts.add_argument(f)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        t = time.perf_counter()
        driver.get(html.resolve().as_uri())
        print(f"page load (driver.get, to the load event): {time.perf_counter() - t:.2f} s")
        driver.set_script_timeout(120)
        for q in queries:
            r = driver.execute_async_script(SEARCH_JS, q)
            print(f"search {q!r}: {r['ms']:.0f} ms in the page; {r['status']}; "
                  f"{r['shown']} shown")
    finally:
        driver.quit()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB (the browser's is its own)")


if __name__ == "__main__":
    main()
