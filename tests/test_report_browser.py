"""report.html in a real browser: headless Chromium through selenium and chromedriver.

Checks what a unit test cannot: the page loads offline with no failed or external request
(every request from Chrome's DevTools performance log), no console error (a CSP violation
or a script error would be one), the theme list and charts are there, the filters and the
quote search work, hostile transcript text stays text. Saves report_overview.png in the run
folder. Skipped, with the reason, where Chromium or chromedriver is not installed
(Debian: apt-get install chromium chromium-driver fonts-noto-cjk).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.report import render_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FIXTURE = Path(__file__).parent / "fixtures" / "report" / "run"
# Without the background-networking flags Chromium phones home, and this machine's closed
# network refuses those connections (errors that are not the page's).
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--window-size=1280,1500", "--hide-scrollbars",
]
LOCAL_SCHEMES = ("data:", "blob:", "about:")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)",
)


def browser(profile: Path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # An explicit driver path: selenium then never tries to download one.
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    run_dir = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(FIXTURE, run_dir)
    paths = render_report(run_dir, load_config())
    driver = browser(tmp_path_factory.mktemp("profile"))
    try:
        url = paths["html"].resolve().as_uri()
        # Start from a blank page and drop what the start-up tab logged, so the log holds
        # only what the report itself asks for.
        driver.get("about:blank")
        driver.get_log("performance")
        driver.get(url)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(run_dir / "report_overview.png"))
        yield driver, run_dir, url
    finally:
        driver.quit()


def _requests(driver) -> tuple[list[str], list[str]]:
    """(every URL requested, every request that failed), from the DevTools performance log."""
    urls, failed = [], []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif msg["method"] == "Network.loadingFailed":
            failed.append(f"{params.get('errorText')} {params.get('blockedReason') or ''}")
        elif msg["method"] in ("Network.webSocketCreated", "Network.eventSourceMessageReceived"):
            urls.append(params.get("url", msg["method"]))
    return urls, failed


def _visible_cards(driver) -> set[str]:
    from selenium.webdriver.common.by import By

    return {el.get_attribute("id") for el in driver.find_elements(By.CSS_SELECTOR,
                                                                  "article.theme-card")
            if el.is_displayed()}


def _expected_for_area(area: str) -> set[str]:
    themes = json.loads((FIXTURE / "themes.json").read_text(encoding="utf-8"))["themes"]
    min_share = load_config().report.area_min_share
    return {f"t{i + 1}" for i, t in enumerate(themes) if not t.get("gap") and (
        t.get("key_area") == area or t.get("area_distribution", {}).get(area, 0) >= min_share)}


def test_loads_offline_without_errors(page):
    driver, run_dir, url = page
    urls, failed = _requests(driver)
    assert url in urls, "the performance log did not see the page load"
    external = [u for u in urls if u != url and not u.startswith(LOCAL_SCHEMES)]
    assert external == [], f"requests other than the file itself: {external}"
    assert failed == [], f"failed requests: {failed}"
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"console errors: {errors}"
    assert (run_dir / "report_overview.png").stat().st_size > 10_000


def test_theme_list_and_charts_present(page):
    from selenium.webdriver.common.by import By

    driver, _, _ = page
    themes = json.loads((FIXTURE / "themes.json").read_text(encoding="utf-8"))["themes"]
    assert len(_visible_cards(driver)) == len(themes)
    toc = driver.find_elements(By.CSS_SELECTOR, "#theme-list li")
    # "n. label": numbered as the cards are (主題 n).
    assert [li.text.split()[:2] for li in toc] == [[f"{i}.", t["label"]]
                                                  for i, t in enumerate(themes, 1)]
    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-sizes svg g.bar")
    assert len(bars) == len(themes)
    assert bars[0].find_element(By.TAG_NAME, "rect").size["width"] > 50
    for chart in ("chart-types", "chart-matrix"):
        assert driver.find_elements(By.CSS_SELECTOR, f"#{chart} table.heat tbody tr")
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-areas svg g.bar")
    # The script ran: the filter form is shown and reports what it shows.
    assert driver.find_element(By.ID, "filters").is_displayed()
    assert "5" in driver.find_element(By.ID, "f-status").text


def test_area_filter_shows_only_matching_themes(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, _, _ = page
    area = Select(driver.find_element(By.ID, "f-area"))
    try:
        for value in ("S01", "S12"):
            area.select_by_value(value)
            assert _visible_cards(driver) == _expected_for_area(value)
            blocks = [el.get_attribute("data-area") for el in
                      driver.find_elements(By.CSS_SELECTOR, "article.area") if el.is_displayed()]
            assert blocks == [value]
        area.select_by_value("__gap__")
        assert _visible_cards(driver) == {"t5"}
    finally:
        area.select_by_value("")
    assert len(_visible_cards(driver)) == 5


def test_type_and_location_filters(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, _, _ = page
    themes = json.loads((FIXTURE / "themes.json").read_text(encoding="utf-8"))["themes"]
    loc = Select(driver.find_element(By.ID, "f-loc"))
    try:
        loc.select_by_value("花蓮")
        want = {f"t{i + 1}" for i, t in enumerate(themes)
                if t["counts"]["session_location"].get("花蓮")}
        assert _visible_cards(driver) == want
        # Heatmap rows follow the filter too.
        rows = [r.get_attribute("data-theme") for r in
                driver.find_elements(By.CSS_SELECTOR, "#chart-types tbody tr") if r.is_displayed()]
        assert set(rows) == want
    finally:
        loc.select_by_value("")


def _units_with(word: str) -> tuple[int, set[str]]:
    """Analysed units of the fixture run holding `word`, and the cards of their themes."""
    import pandas as pd

    from pipeline.units import analysed_mask, best_theme_per_unit

    units = pd.read_parquet(FIXTURE / "units.parquet")
    units = units[analysed_mask(units)]
    hit = units[units["text"].str.contains(word, regex=False)]
    ut = best_theme_per_unit(pd.read_parquet(FIXTURE / "unit_themes.parquet"))
    theme_of = dict(zip(ut["unit_id"].astype(str), ut["theme_id"].astype(str), strict=True))
    doc = json.loads((FIXTURE / "themes.json").read_text(encoding="utf-8"))
    order = [str(t["id"]) for t in doc["themes"] if str(t["id"]) != "-1"]
    cards = {f"t{order.index(theme_of[u]) + 1}" for u in hit["unit_id"].astype(str)
             if theme_of.get(u) in order}
    return len(hit), cards


def test_search_covers_every_analysed_unit(page):
    """The quote search looks through every analysed unit, not only the quotes on the cards:
    the result list counts them all, and a theme shows when any of its units matches."""
    from selenium.webdriver.common.by import By

    driver, _, _ = page
    n, cards = _units_with("電價")
    assert n > 1
    box = driver.find_element(By.ID, "f-q")
    box.send_keys("電價")
    try:
        assert _visible_cards(driver) == cards
        for card in driver.find_elements(By.CSS_SELECTOR, "article.theme-card"):
            if card.is_displayed():
                shown = [q for q in card.find_elements(By.CSS_SELECTOR, "li.quote")
                         if q.is_displayed()]
                assert all("電價" in q.text for q in shown)
        status = driver.find_element(By.ID, "sr-status").text
        assert f"共 {n} 則發言相符" in status
        results = driver.find_elements(By.CSS_SELECTOR, "#sr-list li.quote")
        assert len(results) == min(n, 50)
        assert all("電價" in r.find_element(By.CSS_SELECTOR, ".qt").text for r in results)
        assert driver.find_elements(By.CSS_SELECTOR, "#sr-list mark")
        assert "相符的發言" in driver.find_element(By.ID, "f-status").text
    finally:
        driver.find_element(By.ID, "f-clear").click()
    assert len(_visible_cards(driver)) == 5
    assert not driver.find_elements(By.CSS_SELECTOR, "mark")
    assert not driver.find_element(By.ID, "search-results").is_displayed()


def test_expand_quotes(page):
    from selenium.webdriver.common.by import By

    driver, _, _ = page
    more = driver.find_elements(By.CSS_SELECTOR, "article.theme-card details.more")
    assert more, "the fixture has themes with more quotes than shown"
    hidden = more[0].find_elements(By.CSS_SELECTOR, "li.quote")
    assert not hidden[0].is_displayed()
    more[0].find_element(By.TAG_NAME, "summary").click()
    assert hidden[0].is_displayed()
    driver.find_element(By.ID, "f-expand").click()
    assert all(d.get_attribute("open") is not None for d in more)
    driver.find_element(By.ID, "f-expand").click()
    assert all(d.get_attribute("open") is None for d in more)


def test_hostile_text_stays_text(page):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    driver, _, _ = page
    texts = [q.get_attribute("textContent") for q in
             driver.find_elements(By.CSS_SELECTOR, "#themes li.quote .qt")]
    for needle in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                   '<a href="javascript:alert(1)">x</a>', "[點我](javascript:alert(1))",
                   "{{ 7*7 }}"):
        assert any(needle in t for t in texts), needle
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    assert driver.execute_script(
        "return [...document.querySelectorAll('a[href]')].filter("
        "a => !a.getAttribute('href').startsWith('#')).length") == 0
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
