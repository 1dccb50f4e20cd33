"""layerwise: greedy pretraining, transfer and ensembles of small MLPs, as a DVC pipeline.

Layers, imported one way only (tests/test_dependencies.py keeps it so):

    engine/     study-agnostic many-replica training (TensorFlow); imports nothing below
    pipeline/   errors, io, data, statistics, the stage runner, the schema's building blocks
    reporting/  markdown helpers and the one figure style
    config/     the typed configuration: shared sections and one section per study
    studies/    baseline, greedy, transfer, ensembles: runs, report section, figures,
                published numbers
    stage.py, report.py   the composition root: what stage scripts call
"""
