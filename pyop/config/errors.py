"""Errors of the rollup configuration (floor 0)."""

from __future__ import annotations

from pyop.primitives import PyopError


class RollupConfigError(PyopError):
    """A rollup configuration that cannot be read or does not make sense.

    Raised for unknown JSON fields, wrong JSON types, bad hex, missing required fields (``path``
    names the JSON path, e.g. ``genesis.system_config.gasLimit``) and by ``RollupConfig.check()``
    (``path`` names the offending field, or is empty for whole-config problems), and for unknown
    network names.
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
