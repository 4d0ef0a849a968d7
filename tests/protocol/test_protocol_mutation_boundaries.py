"""Boundary tests for protocol code that the mutation check (``scripts/mutation_check.py``) found
unpinned by the fast suite; each test fails on the mutant named in its docstring. Expected
values come from the specs and contract ABIs, not from pyop."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from pyop.protocol.l1_info import L1InfoError, L1InfoFormat, l1_info_format_of
from pyop.protocol.l1_types import L1JSONError, Receipt
from pyop.protocol.nut_bundles import NUT_BUNDLE_VERSION, NUTBundleError, parse_nut_bundle

# L1Block setter signatures (ecotone/, isthmus/, jovian/l1-attributes.md; Bedrock: deposits.md).
SIGNATURES = {
    L1InfoFormat.BEDROCK: "setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)",
    L1InfoFormat.ECOTONE: "setL1BlockValuesEcotone()",
    L1InfoFormat.ISTHMUS: "setL1BlockValuesIsthmus()",
    L1InfoFormat.JOVIAN: "setL1BlockValuesJovian()",
}


@pytest.mark.parametrize("fmt", list(SIGNATURES))
def test_the_four_byte_selector_alone_names_the_format(fmt: L1InfoFormat) -> None:
    """A 4-byte input is exactly a selector: enough to name the L1-info format; 3 bytes are
    not. Kills: the length guard off by one (``< 5`` / ``<= 4``)."""
    sel = keccak(SIGNATURES[fmt].encode())[:4]
    assert l1_info_format_of(sel) is fmt
    assert l1_info_format_of(sel + b"\x00" * 200) is fmt
    with pytest.raises(L1InfoError):
        l1_info_format_of(sel[:3])


@pytest.mark.parametrize("logs", [None, 5, 1.5])
def test_receipt_logs_that_are_not_a_list_are_a_typed_error(logs: object) -> None:
    """Bad input gives a typed error (house rule), not a TypeError from iterating it. Kills:
    the ``logs must be a list`` guard disabled."""
    with pytest.raises(L1JSONError, match="logs must be a list"):
        Receipt.from_json({"status": "0x1", "logs": logs})


@pytest.mark.parametrize("entry", [["not", "an", "object"], "0x00", 7, None])
def test_nut_bundle_transaction_that_is_not_an_object_is_a_typed_error(entry: object) -> None:
    """Kills: the ``transactions[i]: expected an object`` guard of the NUT bundle parser
    disabled (``.get`` on a list/str/int would raise AttributeError)."""
    bundle = {"metadata": {"version": NUT_BUNDLE_VERSION}, "transactions": [entry]}
    with pytest.raises(NUTBundleError, match=r"transactions\[0\]: expected an object"):
        parse_nut_bundle("test", bundle)
