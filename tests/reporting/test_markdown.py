"""The report's table rows: an accuracy row as it always was, an error row with its median."""

from layerwise.pipeline.stats import Published, summarize
from layerwise.reporting.markdown import interval_name, quartiles, summary_row


def test_an_accuracy_row_keeps_its_columns():
    row = summary_row("test accuracy", summarize([0.8, 0.82, 0.84], metric="test_accuracy"))
    assert list(row) == [
        *("", "mean ± std", "95% CI", "min–max", "published", "published within our range?")
    ]
    assert row["95% CI"] == "0.770–0.870" and row["published"] == "–"


def test_an_error_row_names_its_interval_and_shows_the_median():
    s = summarize([0.001, 0.002, 0.004, 3.0], metric="test_loss")
    row = summary_row("test loss", s, Published("0.000"))
    assert interval_name("test_loss") == "BCa bootstrap" and interval_name("test_accuracy") == "t"
    assert "95% CI" not in row and row["95% CI (BCa bootstrap)"].startswith("0.00")
    assert row["median [IQR]"] == quartiles(s) == "0.003 [0.002–0.753]"
    assert row["published"] == "0.000" and row["published within our range?"] == "**no**"
