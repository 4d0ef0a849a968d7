"""Shared test helpers: where the shared reference vectors live; slow modules first.

``make test`` runs the modules on several pytest-xdist workers (``--dist loadfile``: a module
stays on one worker, so its module-scoped devnet is built once). The modules marked ``slow``
(devnets: they mostly wait on block times) are collected first, so the workers start them
together and the quick CPU-bound modules fill the gaps at the end instead of leaving one long
devnet module running alone."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_VECTORS = (REPO / ".." / "shared" / "vectors").resolve()
SPEC_VECTORS = REPO / "spec_vectors"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stable sort: items of ``slow`` modules (module-level ``pytestmark``) before the rest; the
    order inside a module, and among each group, is unchanged."""

    def slow_module(item: pytest.Item) -> bool:
        module = getattr(item, "module", None)
        marks = getattr(module, "pytestmark", ())
        marks = marks if isinstance(marks, list | tuple) else [marks]
        return any(getattr(m, "name", None) == "slow" for m in marks)

    items.sort(key=lambda it: 0 if slow_module(it) else 1)
