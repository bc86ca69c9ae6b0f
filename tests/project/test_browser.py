"""The standalone HTML explorer in a real headless Chromium (Debian's chromium + chromium-driver):
the widgets are there, changing one changes the plot, and a screenshot is kept; in the slow tier, the explorer of a
nuisance sweep (curves at the posterior, contours, a population) and of a joint sweep load, draw, and log no error.
The documentation's pages are opened by tests/project/test_docs.py, which builds them.

The browser is found on the machine (``$SIGCUBE_CHROMIUM`` and ``$SIGCUBE_CHROMEDRIVER``, else ``chromium`` and
``chromedriver`` on the PATH); this test never installs anything. ``make browser`` installs them (``make test`` runs it
when they are missing); without them the test fails and says so."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

import sigcube
from sigcube.engines.sweep import parse_spec, run_sweep
from sigcube.interfaces.explore import Limits, save_explorer
from sigcube.model.metrics import METRICS

WAIT_BOUND_S = 300
"""Seconds the page may take to render or react: a bound on a hang, generous for a loaded machine."""
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
SPEC = """
name = "browser-test"
description = "A0 × k, SPARC, paper preset"
kernel = "sigma"
preset = "paper"
[grid.A0]
linspace = [0.6, 2.0, 8]
include_default = true
[grid.k]
logspace = [0.03, 0.6, 6]
include_default = true
"""
RENDERED = """return window.Bokeh !== undefined && Object.values(Bokeh.index).length > 0 &&
    Object.values(Bokeh.index).every(v => v.model.type.endsWith('.State') || v.has_finished())"""
MODELS = "Array.from(Bokeh.documents[0].all_models)"
TITLES = f"{MODELS}.filter(m => m.type == 'Title').map(m => m.text)"
WIDGETS = f"""return {MODELS}.filter(m => m.type.endsWith('Select') || m.type == 'Slider')
    .map(m => [m.type, m.title || '', m.type == 'Slider' ? m.end - m.start + 1 : (m.options || []).length])"""
SELECT = f"""const w = {MODELS}.find(m => m.type.endsWith('Select') && m.title == arguments[0]);
    const value = w.options[arguments[1]]; w.value = Array.isArray(value) ? value[0] : value; return w.value"""
X_END = f"""const f = {MODELS}.find(m => m.type == 'Figure' && m.title && m.title.text.includes('\\nRMS '));
    return f.x_range.end"""
SLIDE = f"""const w = {MODELS}.find(m => m.type == 'Slider' && m.end - m.start + 1 == arguments[0]);
    w.value = arguments[1]; return true"""


TABLE_LAYOUT = r"""
const article = document.querySelector('article') || document.body, style = getComputedStyle(article);
const outer = article.getBoundingClientRect(), slack = arguments[0];
const right = outer.right - parseFloat(style.paddingRight);
const lines = (node) => {  // the rendered lines of a node's text: its text boxes grouped by their vertical middle
  const middles = [], walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const range = document.createRange(); range.selectNodeContents(t);
    for (const r of range.getClientRects()) if (r.width > 0) middles.push((r.top + r.bottom) / 2);
  }
  middles.sort((a, b) => a - b);
  return middles.filter((m, i) => i == 0 || m - middles[i - 1] > 4).length;
};
const hidden = (table) => {  // how far the table reaches past the column or past a box that clips it (scrolls)
  let past = table.getBoundingClientRect().right - right - slack;
  for (let p = table.parentElement; p && p !== article; p = p.parentElement)
    if (getComputedStyle(p).overflowX != 'visible') past = Math.max(past, p.scrollWidth - p.clientWidth - 1);
  return Math.round(past);
};
const problems = [];
Array.from(article.querySelectorAll('table')).forEach((table, index) => {
  const head = Array.from(table.rows[0].cells).map(c => c.textContent.trim()).join(' ');
  const name = `table ${index + 1} (${head.slice(0, 50)})`;
  const past = hidden(table);
  if (past > 0) problems.push(['clipped', `${name} is clipped: ${past} px of it lie past the content column`]);
  for (const cell of table.querySelectorAll('th, td')) {
    const text = cell.textContent.trim(), words = text.split(/\s+/).filter(w => w.length > 1).length;
    const n = lines(cell), box = cell.getBoundingClientRect(), range = document.createRange();
    if (words >= 4 && n >= words) problems.push(['squeezed', `${name}: a cell squeezed to a word per line: ${text.slice(0, 60)}`]);
    range.selectNodeContents(cell);
    if (Array.from(range.getClientRects()).some(r => r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1)))
      problems.push(['overrun', `${name}: text runs out of its cell over the next: ${text.slice(0, 60)}`]);
  }
});
return problems;
"""
"""The tables of a page (in its ``article``, else its body) as a reader sees them: every table fits the content column
(within ``slack`` pixels: furo pads the wrapper it puts around a table) — a wider one is clipped, whether it runs past
the column or scrolls inside a box the reader must scroll to read it whole —, no cell of four words or more is squeezed
to a word per line, and no cell's text runs out of it over its neighbour."""

VISIBLE_TEXT = r"""
const root = document.querySelector('article') || document.body, blocks = new Map();
const HIDDEN = 'code, pre, kbd, samp, script, style, tt', BLOCK = arguments[0];
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
for (let t = walker.nextNode(); t; t = walker.nextNode()) {
  const parent = t.parentElement;
  if (parent.closest(HIDDEN) || !parent.checkVisibility({visibilityProperty: true})) continue;
  const block = parent.closest(BLOCK) || root;
  blocks.set(block, (blocks.get(block) || '') + t.data);
}
return Array.from(blocks.values()).map(text => text.split(/\s+/).join(' ').trim()).filter(text => text);
"""
"""The text a reader sees on a page (in its ``article``, else its body), one string per block (an element matching
the selector ``arguments[0]``), outside code, preformatted text, scripts and styles, and drawn (not hidden by CSS)."""


TABLE_PROBLEMS = ("clipped", "squeezed", "overrun")
"""What :data:`TABLE_LAYOUT` looks for: a table clipped, a cell squeezed to a word per line, text run out of its cell."""


def table_layout_problems(driver, slack: float = 8.0, kinds: Iterable[str] = TABLE_PROBLEMS) -> list[str]:
    """What :data:`TABLE_LAYOUT` finds wrong with the tables of the page ``driver`` shows (the ``kinds`` of
    :data:`TABLE_PROBLEMS` asked for)."""
    return [text for kind, text in driver.execute_script(TABLE_LAYOUT, slack) if kind in kinds]


def visible_blocks(driver, blocks: Iterable[str]) -> list[str]:
    """The visible text of the page ``driver`` shows, block by block (:data:`VISIBLE_TEXT`; ``blocks``: the tags)."""
    return driver.execute_script(VISIBLE_TEXT, ", ".join(sorted(blocks)))


def _find(variable: str, name: str) -> Path | None:
    found = os.environ.get(variable) or shutil.which(name)
    return Path(found) if found and Path(found).is_file() else None


@pytest.fixture(scope="module")
def chromium() -> tuple[Path, Path]:
    """The Chromium and its ChromeDriver found on this machine; the test fails (never skips) without them."""
    binary, driver = _find("SIGCUBE_CHROMIUM", "chromium"), _find("SIGCUBE_CHROMEDRIVER", "chromedriver")
    if binary is None or driver is None:
        missing = " and ".join(n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None)
        pytest.fail(f"headless Chromium not found: no {missing} on the PATH (or $SIGCUBE_CHROMIUM / "
                    "$SIGCUBE_CHROMEDRIVER). `make browser` installs Debian's chromium and chromium-driver.",
                    pytrace=False)
    return binary, driver


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", "--window-size=1100,900"):
        options.add_argument(flag)
    options.binary_location = str(chromium[0])
    driver = webdriver.Chrome(service=Service(str(chromium[1])), options=options)  # no Selenium Manager download
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(sparc_store, sparc_cube, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("explorer")
    run_sweep(parse_spec(SPEC), tmp / "browser-test.zarr", cube=sparc_store, synchronous=True)
    result = sigcube.open_result(tmp / "browser-test.zarr")
    return save_explorer(result, sparc_cube, tmp / "explorer.html", limits=Limits(max_frames=8, max_galaxies=12))


@pytest.fixture()
def until(wait_for):
    """``until(driver, script, *args)``: poll the page until ``script`` returns something true (the readiness probe
    of the conftest, bounded by WAIT_BOUND_S)."""
    def wait(driver, script: str, *args) -> None:
        wait_for(lambda: bool(driver.execute_script(script, *args)), f"the page: {script[:80]}", bound=WAIT_BOUND_S)
    return wait


@pytest.mark.slow
def test_explorer_page_in_headless_chromium(browser, page, repo_root, until):
    browser.get(page.as_uri())
    until(browser, RENDERED)
    widgets = browser.execute_script(WIDGETS)
    assert ["Select", "galaxy", 12] in widgets, widgets
    sliders = [w for w in widgets if w[0] == "Slider"]
    assert len(sliders) == 2 and {n for *_, n in sliders} == {7, 8}, "A0 and k sliders, ≤ 8 positions"
    titles = browser.execute_script(f"return {TITLES}")
    assert titles[0].startswith("CamB\nRMS [km/s]: sigma (paper) ") and "Radial acceleration relation" in titles[1]
    flat = [" ".join(t.split()) for t in titles]  # titles wrap to their panel
    assert f"{METRICS['mean_rms'].long_name} along A0 at k = 0.1592" in flat, titles  # labels from the metric registry
    before, x_end = browser.get_screenshot_as_png(), browser.execute_script(X_END)

    galaxy = browser.execute_script(SELECT, "galaxy", 5)
    until(browser, f"return {TITLES}[0].startsWith(arguments[0] + '\\n')", galaxy)
    assert browser.execute_script(X_END) > 5 * x_end, "the radius axis follows the new galaxy's curve"
    browser.execute_script(SLIDE, 7, 0)  # the k slider (6 grid values and the default) to its first value
    until(browser, f"return {TITLES}.some(t => t.replace(/\\s+/g, ' ').endsWith('along A0 at k = 0.03'))")
    until(browser, RENDERED)
    after = browser.get_screenshot_as_png()
    assert after != before, "the rendered page changed with the widgets"

    artifacts = repo_root / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "explorer.png").write_bytes(after)
    # The README's picture is remade by this test; it replaces the committed one only when asked.
    update = os.environ.get("SIGCUBE_UPDATE_DOCS") == "1"
    _save_docs_picture(browser, until, repo_root / "docs" / "explorer.png" if update else artifacts / "readme-explorer.png")


def _save_docs_picture(driver, until, target: Path) -> None:
    """The top of the page (header, rotation curves, RAR) as a small PNG for the README."""
    from io import BytesIO

    from PIL import Image

    driver.execute_script("window.scrollTo(0, 0)")
    driver.set_window_size(1100, 1500)
    until(driver, RENDERED)
    image = Image.open(BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS)
    target.parent.mkdir(exist_ok=True)
    image.quantize(colors=128).save(target, optimize=True)
    assert target.stat().st_size < 200_000


# --- the explorer of every kind of result (slow tier) ---------------------------------------------------------------



def console_errors(driver) -> list[str]:
    """The page's console errors (the browser's own WebGL notices are warnings, not errors)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def not_blank(png: bytes) -> int:
    """The number of distinct colours of a screenshot (a blank page has one or two)."""
    from io import BytesIO

    from PIL import Image

    return len(Image.open(BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20) or ())


@pytest.fixture(scope="module")
def kind_pages(tiny_results, sparc_cube, tmp_path_factory) -> dict[str, Path]:
    """The explorer of a nuisance sweep (with the population of a0) and of a joint sweep's cube."""
    from sigcube.interfaces.explore import PopulationQuestion

    tmp = tmp_path_factory.mktemp("kinds")
    limits = Limits(max_frames=3, max_galaxies=6)
    return {"nuisance": save_explorer(sigcube.open(tiny_results["nuisance"]), sparc_cube, tmp / "n.html",
                                      limits=limits, population=PopulationQuestion("a0", "log")),
            "joint": save_explorer(sigcube.open(tiny_results["joint"]), None, tmp / "j.html", limits=limits)}


@pytest.mark.slow
@pytest.mark.parametrize("kind, expected", [
    ("nuisance", ("mond at the posterior", "own and shrunk estimates", "marginal posterior", "ln B(τ = 0 : τ > 0)")),
    ("joint", ("marginal posterior", "objects, Σ = ")),
])
def test_the_explorer_of_every_kind_in_headless_chromium(kind, expected, browser, kind_pages, until, repo_root):
    browser.get_log("browser")  # what earlier pages logged
    browser.get(kind_pages[kind].as_uri())
    until(browser, RENDERED)
    titles = " | ".join(" ".join(t.split()) for t in browser.execute_script(f"return {TITLES}"))  # wrapped titles
    for text in expected:
        assert text in titles, (text, titles)
    shot = browser.get_screenshot_as_png()
    assert not_blank(shot) > 50, "the plots' canvases are drawn"
    assert console_errors(browser) == []
    artifacts = repo_root / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"explorer-{kind}.png").write_bytes(shot)


TABLES_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
article { width: 460px; padding: 0 20px; font: 16px sans-serif; } td, th { border: 1px solid #999; padding: 2px 4px; }
.wrap { overflow-x: auto; } .nowrap td { white-space: nowrap; } .n { display: inline-block; width: 100px; }
</style></head><body><article>
<table><tr><th>model</th><th>what</th></tr><tr><td>nfw</td><td>an NFW halo, its mass and concentration free</td></tr>
</table>
<table><tr><th>what</th><th>a</th><th>b</th><th>c</th></tr><tr><td>halo concentration normalisation coherence</td>
<td><span class="n">1</span></td><td><span class="n">2</span></td><td><span class="n">3</span></td></tr></table>
<table class="nowrap"><tr><td>a line of words that does not wrap and so runs past the right edge of the column</td></tr>
</table>
<div class="wrap"><table class="nowrap"><tr><td>a line of words that does not wrap, in a container that scrolls
sideways</td></tr></table></div>
<table style="table-layout: fixed; width: 300px"><tr><td style="white-space: nowrap">spills:an-unbroken-value-wider-than-its-cell</td>
<td>next</td></tr></table>
<div class="wrap"><table class="nowrap"><tr><td>short, in a container that could scroll</td></tr></table></div>
</article></body></html>"""


def test_the_table_check_sees_what_a_reader_sees(browser, tmp_path):
    """The table check on a hand-made page: a squeezed text column, a table running past the column, a table that
    scrolls inside its container (clipped too: the reader sees it cut at the column's edge) and a cell whose text runs
    over its neighbour are found; a table that fits, in a scroll container or not, is not."""
    page = tmp_path / "tables.html"
    page.write_text(TABLES_PAGE, encoding="utf-8")
    browser.set_window_size(1100, 900)
    browser.get(page.as_uri())
    problems = table_layout_problems(browser)
    assert len(problems) == 4, problems
    assert problems[0].startswith("table 2 (what a b c)") and "squeezed to a word per line: halo conc" in problems[0]
    assert problems[1].startswith("table 3 (a line of words") and "is clipped" in problems[1]
    assert problems[2].startswith("table 4 (a line of words") and "in a container" in problems[2]
    assert "is clipped" in problems[2]
    assert problems[3].startswith("table 5 (spills") and "runs out of its cell" in problems[3]


TEXT_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body><article>
<p>| model | ln B |\n| :-- | --: |\n| <code>sigma</code> | 1.2 |</p>
<ul><li><p>σ_L (:func:<code>chord_scatter_dex</code>)</p></li><li>Kass \\&amp; Raftery, 2.7 \\times 10</li></ul>
<table><tr><th>|r| &gt; 3</th><td>| a | b |</td></tr></table>
<p>choices: a | b | c; <code>\\_ :func: | a | b |</code></p><pre>| a | b |\n| -- | -- |</pre>
<p style="display: none">| hidden | b |</p><details><summary>a summary</summary><p>:func: folded away</p></details>
</article></body></html>"""


def test_the_text_check_reads_what_a_reader_sees(browser, tmp_path):
    """The browser's reading of a page's text, block by block, through the pages' markup check
    (tests/project/test_docs.py): a table read as a paragraph, a role and escapes are found in the text a reader sees;
    the same inside code, hidden by CSS or folded in a closed <details> are not, nor is a cell that is one value."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("_browser_test_docs", Path(__file__).with_name("test_docs.py"))
    docs = module_from_spec(spec)
    spec.loader.exec_module(docs)
    page = tmp_path / "text.html"
    page.write_text(TEXT_PAGE, encoding="utf-8")
    browser.get(page.as_uri())
    blocks = visible_blocks(browser, docs.BLOCK_TAGS)
    assert "a summary" in blocks and not any("hidden" in b or "folded" in b for b in blocks), blocks
    assert blocks == docs.visible_blocks(TEXT_PAGE.replace('<p style="display: none">| hidden | b |</p>', "")
                                         .replace("<p>:func: folded away</p>", "")), "the browser reads as the parser"
    assert [(kind, found) for kind, found, _ in docs.markup_shown(blocks)] == [
        ("raw table", "| model | ln B | | :-- | --: | | | 1.2 |"), ("role", ":func:"), ("escape", "\\"),
        ("escape", "\\"), ("raw table", "| a | b |")]
