"""``load_fixture`` reads the file as a stream and converts the big sections item by item
(issue 15: a 10,000-block fixture under 200 MB RSS). The result must be what converting the
whole parsed JSON gives (``DerivationFixture.from_json(json.loads(text))``, the plain path),
for any chunking of the stream, any JSON layout, and bad input must still fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyop.tools import fixture as fixture_mod
from pyop.tools.fixture import DerivationFixture, FixtureError, load_fixture
from tests.conftest import SPEC_VECTORS

DIFFERENTIAL = SPEC_VECTORS / "derivation" / "differential" / "go-devnet-calldata-blobs.json.gz"


@pytest.fixture(scope="module")
def fixture_json() -> dict[str, object]:
    """A real captured fixture (Go op-node devnet: calldata and blob batches, all sections)."""
    import gzip

    obj: dict[str, object] = json.loads(gzip.decompress(DIFFERENTIAL.read_bytes()))
    return obj


# one-byte chunks only with the compact layout: it already puts a chunk boundary everywhere
_CASES = [("compact", 1)] + [
    (lay, c) for lay in ("indented", "compact", "spaced") for c in (7, 4096, 1 << 22)
]


@pytest.mark.parametrize(("layout", "chunk"), _CASES)
def test_stream_equals_whole_parse(
    tmp_path: Path,
    fixture_json: dict[str, object],
    chunk: int,
    layout: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = {
        "indented": json.dumps(fixture_json, indent=1),
        "compact": json.dumps(fixture_json, separators=(",", ":")),
        "spaced": json.dumps(fixture_json, indent="\t").replace(":", " \r\n :"),
    }[layout]
    want = DerivationFixture.from_json(json.loads(text)).to_json()
    p = tmp_path / "fx.json"
    p.write_text(text + "\n")
    monkeypatch.setattr(fixture_mod._JSONStream, "CHUNK", chunk)
    assert load_fixture(p).to_json() == want


def test_stream_keeps_non_ascii_meta(tmp_path: Path, fixture_json: dict[str, object],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    obj = dict(fixture_json)
    obj["pyopMeta"] = {"note": "Größe ✓ 🚀"}  # multi-byte UTF-8 split across 3-byte chunks
    p = tmp_path / "fx.json"
    p.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(fixture_mod._JSONStream, "CHUNK", 3)
    assert load_fixture(p).meta == {"note": "Größe ✓ 🚀"}


@pytest.mark.parametrize("cut", ["truncated", "garbage", "not-object", "empty", "trailing-comma"])
def test_stream_rejects_bad_json(tmp_path: Path, fixture_json: dict[str, object], cut: str) -> None:
    text = json.dumps(fixture_json)
    bad = {
        "truncated": text[: len(text) // 2],
        "garbage": text + " x",
        "not-object": "[1, 2]",
        "empty": "",
        "trailing-comma": text[:-1] + ",}",
    }[cut]
    p = tmp_path / "bad.json"
    p.write_text(bad)
    with pytest.raises(FixtureError):
        load_fixture(p)
