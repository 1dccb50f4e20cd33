"""Stage `check`: every key of params.yaml checked (types, ranges, the rules that span
sections) before any other stage runs.

DVC deletes a stage's outputs just before it runs that stage, so a value refused inside
a training stage has already cost that stage's results. This stage comes first in the
graph (the `data` stage, and through it every other stage, depends on its marker): a
refused value in a hand-edited params.yaml stops `dvc repro` here, in about a second and
without TensorFlow, with every earlier result still in place. (`dvc exp run` refuses the
same values earlier still, while it composes: conf/config.yaml's `checked` key.) The
marker's bytes never change and DVC keeps it while this stage runs (`persist`), so
passing the check invalidates nothing downstream and failing it deletes nothing.
"""

from pathlib import Path

from layerwise.pipeline.io import atomic_path
from layerwise.stage import stage_main

MARKER = Path("results/check/params.ok")


def main(cfg, args):
    # stage_main has loaded params.yaml through the schema: every check has passed
    with atomic_path(MARKER) as tmp:
        tmp.write_text("params.yaml passed every check of the configuration schema\n")


if __name__ == "__main__":
    stage_main(
        "check",
        main,
        describe=lambda cfg, args: "check every key of params.yaml",
        record_time=False,  # a timing file would be an output, deleted when a check fails
        read_data_files=True,  # a csv dataset's file too (a dependency of this stage)
    )
