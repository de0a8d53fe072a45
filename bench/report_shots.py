"""Screenshots of report.html's sections in headless Chromium, for review (issue notes).

    .venv/bin/python bench/report_shots.py RUN_DIR OUT_DIR [--prefix sample] [--query 電價]

Saves OUT_DIR/<prefix>-<section>.png for each section present (and the quote search with a
query typed), each cropped to the section.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from report_search import FLAGS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--prefix", default="report")
    ap.add_argument("--query", default="電價")
    ap.add_argument("--sections", default="overview,by_type,process,themes,charts,participation")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in [*FLAGS[:-1], "--window-size=1280,2400", "--hide-scrollbars"]:
        opts.add_argument(f)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        driver.get((args.run_dir / "report.html").resolve().as_uri())
        for key in args.sections.split(","):
            found = driver.find_elements(By.ID, key)
            if found:
                path = args.out / f"{args.prefix}-{key}.png"
                found[0].screenshot(str(path))
                print(path)
        box = driver.find_element(By.ID, "f-q")
        box.send_keys(args.query)
        path = args.out / f"{args.prefix}-search.png"
        results = driver.find_element(By.ID, "search-results")
        driver.execute_script("arguments[0].scrollIntoView()", results)
        results.screenshot(str(path))
        print(path)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
