"""Sweeps: a sweep's points as DVC experiments, run on one machine or a cluster (Dask),
and read back side by side (the sweep report)."""
