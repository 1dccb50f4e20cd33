"""What `dvc plots` draws: the plots dvc.yaml declares, and the page they are drawn on
(.dvc/plots/offline.html), which tools/plots_template.py writes from the installed
vl-convert-python and .dvc/config names. tests/e2e/test_plots_offline.py opens what DVC
makes of both in a browser."""

import re
import subprocess
import sys

from configobj import ConfigObj

from .helpers.commands import ROOT
from .helpers.plots import declared_plots

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


def test_every_declared_plot_names_its_axes_and_has_an_id_dvc_can_write():
    """DVC labels an axis with the column's name unless told otherwise ("y" where several
    columns share it), and writes the id into the page's HTML and JavaScript as it is: a
    quote there breaks the page."""
    plots = declared_plots()
    assert plots
    for name, definition in plots.items():
        assert definition.get("x_label") and definition.get("y_label"), name
        assert not set(name) & set("'\""), name
