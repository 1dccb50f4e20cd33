"""Write the page that `dvc plots show` and `dvc plots diff` fill in, with vega, vega-lite
and vega-embed inside it, so that the charts render with no network.

DVC's own page loads the three libraries from a CDN, and offline every chart is blank.
This page inlines them instead, from the JavaScript bundle that vl-convert-python ships
(the version requirements.lock pins), so refreshing them is: bump that pin, rerun this.

    python tools/plots_template.py          # (re)write .dvc/plots/offline.html
    python tools/plots_template.py --check  # exit 1 if the committed page is not what
                                            # the installed package would write

`make plots-template` runs the first; a test runs the second. `.dvc/config` names the page
(`[plots] html_template`, relative to .dvc/).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".dvc" / "plots" / "offline.html"

# DVC's vega templates are Vega-Lite v5 specifications: compile them with the newest 5.x
# the bundle offers (vl_convert.get_vegalite_versions() lists them). The bundle's Vega is
# 6.x whatever the Vega-Lite, so vega-embed warns on the console, once a chart, that the
# compiled spec names Vega v5; a warning only (Vega-Lite 6 would warn about the v5 input)
VEGA_LITE = "5.21"

# DVC replaces these markers in the page: the charts, and an optional refresh tag. Its
# third marker, for script tags, is left out on purpose: what it adds is the CDN's.
CHARTS, REFRESH, SCRIPTS = "{plot_divs}", "{refresh_tag}", "{scripts}"

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh}
    <title>DVC Plot</title>
    <!-- Written by tools/plots_template.py (make plots-template); do not edit by hand.
         Inlined: {versions}, from vl-convert-python {vl_convert}. -->
    <script>
{bundle}
    </script>
    <style>
        table {{
            border-spacing: 15px;
        }}
    </style>
</head>
<body>
    {charts}
</body>
</html>
"""


def render() -> str:
    """The page, from the installed vl-convert-python."""
    import vl_convert as vlc

    if VEGA_LITE not in vlc.get_vegalite_versions():
        raise SystemExit(
            f"vl-convert-python {vlc.__version__} has no Vega-Lite {VEGA_LITE} "
            f"(it has {', '.join(vlc.get_vegalite_versions())}): update VEGA_LITE here"
        )
    bundle = vlc.javascript_bundle(vl_version=VEGA_LITE)
    for marker in (CHARTS, REFRESH, SCRIPTS):
        if marker in bundle:  # DVC would substitute into the JavaScript
            raise SystemExit(f"the bundle contains DVC's marker {marker}")
    # inside <script>, "</script" ends the element wherever it stands: escape it (in the
    # strings and regular expressions where it can occur, "<\/" means the same)
    bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    # the bundle declares its helpers (`n`, `t`, ...) at its top level, where they would
    # be globals beside the `var spec` of every chart DVC writes: scope them in a function
    # (an arrow keeps `this` as at the top level); the bundle still sets window.vega,
    # window.vegaLite and window.vegaEmbed
    bundle = f"(() => {{\n{bundle.strip()}\n}})();"
    versions = (
        f"vega {vlc.get_vega_version()}, vega-lite {VEGA_LITE}, "
        f"vega-embed {vlc.get_vega_embed_version()}"
    )
    return PAGE.format(
        refresh=REFRESH,
        versions=versions,
        vl_convert=vlc.__version__,
        bundle=bundle.strip(),
        charts=CHARTS,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed page, write nothing"
    )
    args = parser.parse_args(argv)
    page = render()
    rel = TEMPLATE.relative_to(ROOT)
    if args.check:
        current = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.is_file() else None
        if current != page:
            state = "is missing" if current is None else "differs from the installed bundle"
            print(f"{rel} {state}: run `make plots-template`", file=sys.stderr)
            return 1
        print(f"{rel} is up to date")
        return 0
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_text(page, encoding="utf-8")
    print(f"wrote {rel} ({TEMPLATE.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
