"""Shared test helpers: where the shared reference vectors live."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_VECTORS = (REPO / ".." / "shared" / "vectors").resolve()
SPEC_VECTORS = REPO / "spec_vectors"
