"""Sweeps: a sweep's points as DVC experiments, run on one machine or a cluster, and read back."""
