"""Stage `report`: write reports/report.md and its figures from the other stages' outputs."""

from pathlib import Path

from layerwise import report
from layerwise.config import as_dict
from layerwise.config.compose import overrides_of
from layerwise.pipeline.errors import UserError
from layerwise.stage import stage_main


def main(cfg, args):
    ctx = report.ReportContext(
        cfg=cfg,
        results=Path("results"),
        data=Path("data"),
        figures=Path("reports/figures"),
        overrides=overrides_of(as_dict(cfg), cfg.preset),
    )
    try:
        report.build(ctx, Path("reports/report.md"))
    except (KeyError, IndexError, TypeError, ValueError) as err:
        # the results parse but are not what this version writes (an edited or foreign
        # file); which one is in the traceback: LAYERWISE_DEBUG=1
        raise UserError(
            f"results/ do not hold what the report expects ({type(err).__name__}: "
            f"{str(err)[:100]}); restore them with `dvc checkout` or rerun their stages "
            "with `dvc repro -f`"
        ) from err
    print("report written to reports/report.md")


if __name__ == "__main__":
    stage_main(
        "report",
        main,
        describe=lambda cfg, args: "assemble reports/report.md",
        record_time=False,  # the report lists the other stages' times; its own is not yet known
    )
