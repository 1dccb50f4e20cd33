"""`dvc plots show` and `dvc plots diff` on the smoke run, opened from disk in headless
Chromium with the network cut off: every plot dvc.yaml declares is drawn, and the page
reports no error (an exception, a console error, a failed load).

The page is the committed template (.dvc/config `[plots] html_template`), which carries
vega, vega-lite and vega-embed itself; with DVC's own page, which loads them from a CDN,
this test fails. Needs Chromium (Debian's package, installed by .ci/run); where there is
none it is skipped, saying how to install it. `make test-browser` runs this file alone.
"""

import re

import pytest
from dvc_render.base import Renderer

from ..helpers.browser import INSTALL, find_chromium, open_page
from ..helpers.commands import DVC, run
from ..helpers.plots import declared_plots

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason=f"no Chromium on PATH: install it (`{INSTALL}` on Debian) to check the plots page",
)


def first_experiment(smoke_run) -> str:
    found = re.search(r"Ran experiment\(s\): (\S+)", smoke_run.first.stdout)
    assert found, smoke_run.first.stdout
    return found.group(1)


@pytest.mark.parametrize("command", ["show", "diff"])
def test_every_declared_plot_is_drawn_with_no_network(smoke_run, tmp_path, command):
    # `diff` draws the workspace beside the first run's experiment: two revisions a chart
    args = ["show"] if command == "show" else ["diff", first_experiment(smoke_run)]
    run([*DVC, "plots", *args, "-o", str(tmp_path)], smoke_run.repo)
    page = tmp_path / "index.html"
    shown = open_page(find_chromium(), page)

    # HTML id of each declared plot's <div> -> its id in dvc.yaml
    declared = {Renderer.remove_special_chars(n): n for n in declared_plots(smoke_run.repo)}
    context = f"{page}\nerrors: {shown.errors}\nwarnings: {shown.warnings}"
    assert not shown.errors, context
    # a revision drawn beside the workspace may declare plots of its own: a superset
    assert set(declared) <= set(shown.marks), context
    blank = [declared.get(div, div) for div, drawn in shown.marks.items() if not drawn]
    assert not blank, f"not drawn: {blank}\n{context}"
