"""Registers the typed schema with Hydra's ConfigStore.

DVC puts the repository root on sys.path while Hydra looks for plugins
(`.dvc/config`: hydra.plugins_path), so importing this package makes `schema`
available to conf/config.yaml's defaults list and type-checks every override.
"""

from layerwise.config import register_schema

register_schema()
