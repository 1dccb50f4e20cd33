"""The page `dvc plots` fills in (.dvc/plots/offline.html): written by
tools/plots_template.py from the installed vl-convert-python, committed, and named in
.dvc/config. tests/e2e/test_plots_offline.py opens what DVC makes of it in a browser."""

import re
import subprocess
import sys

from configobj import ConfigObj

from .helpers.commands import ROOT

PAGE = ROOT / ".dvc" / "plots" / "offline.html"


def test_the_committed_page_is_what_the_script_writes_from_the_locked_package():
    """A hand edit, or a new vl-convert-python in requirements.lock without
    `make plots-template`, fails here."""
    check = subprocess.run(
        [sys.executable, "tools/plots_template.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_dvc_uses_the_page_and_the_page_asks_the_network_for_nothing():
    config = ConfigObj(str(ROOT / ".dvc" / "config"))
    assert (ROOT / ".dvc" / config["plots"]["html_template"]).resolve() == PAGE
    html = PAGE.read_text(encoding="utf-8")
    # DVC puts the charts where `{plot_divs}` stands; `{scripts}` would add its CDN tags
    assert html.count("{plot_divs}") == 1 and "{scripts}" not in html
    assert not re.search(r"<script[^>]*\bsrc=|<link\b", html, flags=re.IGNORECASE)
    assert "window.vegaEmbed=" in html  # what every chart DVC writes calls
