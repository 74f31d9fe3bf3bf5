"""The built documentation site, checked in headless Chromium.

``bash scripts/docs.sh`` builds the Python site into ``docs/_build/html`` (the R site into its
``r/`` folder) and then runs this module.  Chromium (Debian's ``chromium`` with
``chromium-driver``) opens the home page, a tutorial and an API page: every image on them must
have loaded, the screenshots (kept in ``docs/_build/screenshots``) must not be blank, and the
tutorial's figures must be real, non-blank PNGs.  Every ``src``/``href`` to a local file in the
whole site must exist, every ``#anchor`` into a Sphinx page must exist there, and every
stylesheet must be local (a page styled from a CDN is unstyled offline).

Without a built site the module is skipped, except under CI (``CI=true``), where a missing site
is a failure: CI builds it first.
"""

from __future__ import annotations

import io
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "docs" / "_build" / "html"
SHOTS = REPO / "docs" / "_build" / "screenshots"
PAGES = {
    "home": "index.html",
    "tutorial": "tutorials/vignettes/05_regularisation_path.html",
    "api": "generated/dlstat.cv_dnn.html",
}
if (SITE / "r" / "reference" / "dnn.html").exists():
    PAGES["r_reference"] = "r/reference/dnn.html"  # pkgdown's page, with its example's output

if not (SITE / "index.html").exists():
    if os.environ.get("CI") == "true" or os.environ.get("DLSTAT_DOCS_BUILT"):
        pytest.fail(f"the documentation site is missing ({SITE}); run bash scripts/docs.sh",
                    pytrace=False)
    pytest.skip("the documentation site is not built (bash scripts/docs.sh)",
                allow_module_level=True)

Image = pytest.importorskip("PIL.Image")


class _Links(HTMLParser):
    """The ``src``/``href`` values and the ``id``s of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.stylesheets.append(attributes["href"] or "")
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.links.append(value)
                if tag == "img" and name == "src":
                    self.images.append(value)
            elif name in ("id", "name") and value:
                self.ids.add(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def _local(link: str) -> bool:
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc and not link.startswith(("#", "data:"))


def _not_blank(png: bytes) -> float:
    """The pixels' standard deviation (0 for a blank image)."""
    with Image.open(io.BytesIO(png)) as image:
        return float(np.asarray(image.convert("L"), dtype=float).std())


def test_every_local_link_and_resource_exists():
    pages = sorted(p for p in SITE.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) > 30, f"only {len(pages)} pages in {SITE}"
    parsed = {page: _parse(page) for page in pages}
    missing, anchors = [], []
    for page, links in parsed.items():
        for link in links.links:
            if not _local(link):
                continue
            parts = urlsplit(link)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                missing.append(f"{page.relative_to(SITE)} -> {link}")
            elif (parts.fragment and target.suffix == ".html" and target in parsed
                  and "/r/" not in f"/{target.relative_to(SITE)}"
                  and unquote(parts.fragment) not in parsed[target].ids):
                anchors.append(f"{page.relative_to(SITE)} -> {link}")
    remote = [f"{page.relative_to(SITE)} -> {css}" for page, links in parsed.items()
              for css in links.stylesheets if not _local(css)]
    assert not missing, f"{len(missing)} missing local files, e.g. {missing[:10]}"
    assert not remote, f"{len(remote)} stylesheets from the network (unstyled offline): {remote[:5]}"
    assert not anchors, f"{len(anchors)} links to missing anchors, e.g. {anchors[:10]}"


def test_the_r_site_is_linked():
    home = _parse(SITE / "index.html")
    assert "r/index.html" in home.links, "the home page links the R site"
    if os.environ.get("DLSTAT_DOCS_SKIP_R"):
        pytest.skip("the R site was not built (DLSTAT_DOCS_SKIP_R)")
    assert (SITE / "r" / "reference" / "dnn.html").exists(), "pkgdown's reference of dnn()"


def test_the_tutorials_figures_are_real_pngs():
    page = SITE / PAGES["tutorial"]
    figures = [src for src in _parse(page).images if src.endswith(".png")]
    assert len(figures) >= 2, f"{page.name} shows {len(figures)} figures"
    for src in figures:
        png = (page.parent / unquote(src)).read_bytes()
        assert png.startswith(b"\x89PNG"), src
        assert _not_blank(png) > 5, f"{src} is blank"


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium and chromedriver are needed (Debian: chromium chromium-driver)")
        pytest.skip("no chromium/chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1600", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path),
                              options=options)
    yield driver
    driver.quit()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_in_chromium(browser, name: str):
    page = SITE / PAGES[name]
    browser.get(page.as_uri())
    state = browser.execute_script("return document.readyState")
    assert state == "complete"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])")
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"images that did not load on {page.name}: {broken}"
    title = browser.title
    assert "dlstat" in title, title
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = browser.get_screenshot_as_png()
    (SHOTS / f"{name}.png").write_bytes(png)
    assert _not_blank(png) > 5, f"the screenshot of {page.name} is blank"
    if name == "tutorial":
        assert len(images) >= 2, f"{len(images)} images on the tutorial page"
        browser.execute_script("document.querySelector('img.cell-output, .cell_output img')"
                               "?.scrollIntoView()")
        (SHOTS / "tutorial_figure.png").write_bytes(browser.get_screenshot_as_png())
