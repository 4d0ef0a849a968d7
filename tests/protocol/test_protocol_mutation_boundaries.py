"""Boundary tests for protocol code that the mutation check (``scripts/mutation_check.py``) found
unpinned by the fast suite; each test fails on the mutant named in its docstring. Expected
values come from the specs and contract ABIs, not from pyop."""

from __future__ import annotations

from dataclasses import replace

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


# ------------------------------------------------------------------ survivors of the merged run


def test_challenge_status_log_needs_the_contract_and_the_event_topic() -> None:
    """op-alt-da ``fetchChallengeLogs``: a log counts only if it was emitted by the challenge
    contract *and* its topic 0 is ``ChallengeStatusChanged(uint256,bytes,uint8)``. Kills:
    ``and`` -> ``or``."""
    from pyop.protocol.altda import is_challenge_status_log
    from pyop.protocol.l1_types import Log

    contract, other = b"\x97" * 20, b"\x11" * 20
    topic = keccak(b"ChallengeStatusChanged(uint256,bytes,uint8)")
    assert is_challenge_status_log(Log(contract, (topic, bytes(32)), b""), contract)
    assert not is_challenge_status_log(Log(other, (topic, bytes(32)), b""), contract)
    assert not is_challenge_status_log(Log(contract, (keccak(b"Other()"),), b""), contract)
    assert not is_challenge_status_log(Log(contract, (), b""), contract)


@pytest.mark.parametrize("name", ["mint", "value"])
def test_deposit_opaque_data_refuses_amounts_above_uint256(name: str) -> None:
    """deposits.md ``opaqueData``: mint and value are uint256; 2**256 is a typed
    DepositLogError, not an OverflowError from ``to_bytes``. Kills: the bound's base 2 -> 3."""
    from pyop.protocol.deposit_log import DepositLogError, encode_deposit_opaque_data
    from pyop.protocol.deposits import DepositTx

    ok = DepositTx(bytes(32), b"\x01" * 20, b"\x02" * 20, 2**256 - 1, 2**256 - 1, 2**64 - 1, False, b"")
    assert len(encode_deposit_opaque_data(ok)) == 32 + 32 + 8 + 1
    bad = DepositTx(bytes(32), b"\x01" * 20, b"\x02" * 20, 0, 0, 21_000, False, b"")
    bad = replace(bad, mint=2**256) if name == "mint" else replace(bad, value=2**256)
    with pytest.raises(DepositLogError):
        encode_deposit_opaque_data(bad)


def test_deposit_tx_fields_at_their_full_width_decode() -> None:
    """A deposit tx (deposits.md) with mint/value 2**256-1 and gas 2**64-1 -- the largest
    values of their types -- decodes; one more bit is refused. Kills: ``bit_length() >
    max_bits`` -> ``>=``."""
    import rlp

    from pyop.codec.errors import TxError
    from pyop.protocol.deposits import decode_deposit_tx

    def raw(mint: int, gas: int) -> bytes:
        return b"\x7e" + rlp.encode([bytes(32), b"\x01" * 20, b"\x02" * 20, mint, mint, gas, 0, b""])

    tx = decode_deposit_tx(raw(2**256 - 1, 2**64 - 1))
    assert (tx.mint, tx.value, tx.gas) == (2**256 - 1, 2**256 - 1, 2**64 - 1)
    with pytest.raises(TxError):
        decode_deposit_tx(raw(2**256, 21_000))
    with pytest.raises(TxError):
        decode_deposit_tx(raw(1, 2**64))


def test_ecotone_l1_info_has_no_operator_fee_even_if_the_system_config_sets_one() -> None:
    """isthmus/l1-attributes.md: the operator fee fields exist from Isthmus; an Ecotone-format
    L1 block info carries none (op-node ``L1BlockInfo`` leaves them zero), whatever the
    SystemConfig holds. Kills: the Ecotone
    default of ``op_scalar`` / ``op_constant`` set to 1."""
    from pyop.primitives import SystemConfig
    from pyop.protocol.l1_info import L1OriginInfo, build_l1_block_info

    params = (7).to_bytes(20, "big") + (5).to_bytes(4, "big") + (9).to_bytes(8, "big")
    cfg = SystemConfig(b"\x11" * 20, bytes(32), b"\x01" + bytes(23) + (3).to_bytes(4, "big") + (4).to_bytes(4, "big"),
                       30_000_000, operator_fee_params=params)  # fmt: skip
    origin = L1OriginInfo(b"\x22" * 32, 10, 1_000, 7, 1)
    info = build_l1_block_info(L1InfoFormat.ECOTONE, cfg, origin, 0)
    assert (info.operator_fee_scalar, info.operator_fee_constant) == (0, 0)
    isthmus = build_l1_block_info(L1InfoFormat.ISTHMUS, cfg, origin, 0)
    assert (isthmus.operator_fee_scalar, isthmus.operator_fee_constant) == (5, 9)


def test_nut_bundle_gas_limit_is_a_uint64() -> None:
    """A NUT bundle's ``gasLimit`` is a uint64: 2**64-1 parses, 2**64 is refused. Kills:
    ``< 1 << 64`` -> ``<=``."""
    def bundle(gas: int) -> dict[str, object]:
        tx = {"intent": "x", "from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "data": "0x", "gasLimit": gas}
        return {"metadata": {"version": NUT_BUNDLE_VERSION}, "transactions": [tx]}

    assert parse_nut_bundle("test", bundle(2**64 - 1))
    with pytest.raises(NUTBundleError, match="gasLimit"):
        parse_nut_bundle("test", bundle(2**64))


@pytest.mark.parametrize("size", [0, 7, 9, 32])
def test_eip1559_params_of_the_wrong_size_are_a_typed_error(size: int) -> None:
    """holocene/system-config.md: ``eip1559Params`` is 8 bytes (denominator, elasticity as
    uint32s); any other size is a SystemConfigError, not a silently misread value. Kills: the
    length guard disabled."""
    from pyop.primitives import SystemConfig
    from pyop.protocol.system_config import SystemConfigError, eip1559_params

    cfg = SystemConfig(b"\x11" * 20, bytes(32), bytes(32), 30_000_000, eip1559_params=b"\x00\x00\x00\x08" * 2)
    assert tuple(eip1559_params(cfg)) == (8, 8)
    with pytest.raises(SystemConfigError, match="8 bytes"):
        eip1559_params(replace(cfg, eip1559_params=b"\x01" * size))


# ------------------------------------------------------------------ survivors of a second sample (seed 9)


def test_deposit_opaque_data_refuses_gas_above_uint64() -> None:
    """deposits.md ``opaqueData``: gas is a uint64; 2**64 is a typed DepositLogError. Kills:
    ``_U64_MAX`` computed as 2**65 - 1."""
    from pyop.protocol.deposit_log import DepositLogError, encode_deposit_opaque_data
    from pyop.protocol.deposits import DepositTx

    tx = DepositTx(bytes(32), b"\x01" * 20, b"\x02" * 20, 0, 0, 2**64, False, b"")
    with pytest.raises(DepositLogError):
        encode_deposit_opaque_data(tx)


def test_deposit_tx_with_trailing_bytes_after_the_rlp_list_is_refused() -> None:
    """A deposit tx is exactly ``0x7E ++ rlp(list)`` (EIP-2718 typed envelope; op-geth decodes
    it strictly): bytes after the list are an error. Kills: strict RLP decoding turned off."""
    import rlp

    from pyop.codec.errors import TxError
    from pyop.protocol.deposits import decode_deposit_tx

    raw = b"\x7e" + rlp.encode([bytes(32), b"\x01" * 20, b"\x02" * 20, 1, 1, 21_000, 0, b""])
    assert decode_deposit_tx(raw).gas == 21_000
    with pytest.raises(TxError):
        decode_deposit_tx(raw + b"\x00")
