"""L1 consolidation: do derived payload attributes match the existing unsafe block?

Spec: specs/protocol/derivation.md "L1-consolidation: payload attributes matching" (parent hash,
timestamp, randao, fee recipient, transactions (length, then each encoding), gas limit;
withdrawals from Canyon; parent beacon block root from Ecotone), specs/glossary.md "Unsafe Block
Consolidation". Beyond the spec list, as op-node (``AttributesMatchBlock`` in
op-node/rollup/attributes/engine_consolidate.go, newer ``checkEIP1559ParamsMatch``) and kona
(``AttributesMatch::check``) do: [Holocene] the ``eip1559Params`` against the header's
``extraData`` (holocene/exec-engine.md "EIP-1559 parameters in block header"; zero params stand
for the chain's Canyon constants), [Jovian] ``minBaseFee`` against ``extraData`` version 1
(jovian/exec-engine.md "Minimum base fee in block header"), [Isthmus] the header has a
``withdrawalsRoot``.

:func:`attributes_match_block` returns ``None`` on a match, else a :class:`ConsolidationMismatch`
naming the first field that differs with both values, readable in a log line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from eth_hash.auto import keccak

from pyop.config import RollupConfig
from pyop.primitives import BlockID, ExecutionPayload, Hash32, PayloadAttributes, PyopError, to_hex
from pyop.protocol.l1_info import decode_l1_info_tx
from pyop.sources.l2 import decode_holocene_extra_data, decode_jovian_extra_data


@dataclass(frozen=True, slots=True)
class ConsolidationMismatch:
    """Why an existing unsafe block does not match the attributes derived from L1.

    ``field``: the attribute that differs (``"transactions[3]"``, ``"timestamp"``, ...);
    ``derived`` / ``existing``: the two values as text; ``block``: the unsafe block;
    ``detail``: more context (e.g. which L1-info fields differ).
    """

    field: str
    derived: str
    existing: str
    block: BlockID
    detail: str = ""

    def describe(self) -> str:
        s = (
            f"L2 reorg: existing unsafe block {self.block.number} ({to_hex(self.block.hash)}) does not "
            f"match the attributes derived from L1: {self.field} differs (derived {self.derived}, "
            f"existing {self.existing})"
        )
        return s + (f"; {self.detail}" if self.detail else "")

    def to_json(self) -> dict[str, object]:
        return {
            "field": self.field,
            "derived": self.derived,
            "existing": self.existing,
            "block": self.block.to_json(),
            "detail": self.detail,
        }


def _short(b: bytes, limit: int = 40) -> str:
    h = b.hex()
    return "0x" + (h if len(h) <= 2 * limit else f"{h[:2 * limit]}..({len(b)} bytes)")


def _tx_hash(raw: bytes) -> str:
    return to_hex(keccak(raw))


def l1_info_diff(derived: bytes, existing: bytes) -> str:
    """The L1-info deposit fields that differ, as ``name derived!=existing`` (op-node
    ``logL1InfoTxns``); ``""`` if either does not decode."""
    try:
        _, a = decode_l1_info_tx(derived)
        _, b = decode_l1_info_tx(existing)
    except PyopError:
        return ""
    diffs = []
    for f in dataclasses.fields(a):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if va != vb:
            fa = to_hex(va) if isinstance(va, bytes) else str(va)
            fb = to_hex(vb) if isinstance(vb, bytes) else str(vb)
            diffs.append(f"{f.name} {fa}!={fb}")
    return "L1-info deposit differs: " + ", ".join(diffs) if diffs else ""


def _eip1559_of_header(cfg: RollupConfig, p: ExecutionPayload) -> tuple[int, int, int | None] | str:
    """``(denominator, elasticity, minBaseFee|None)`` from the header ``extraData``, or an
    error text."""
    try:
        if cfg.is_jovian(p.timestamp):
            return decode_jovian_extra_data(p.extra_data)
        den, el = decode_holocene_extra_data(p.extra_data)
        return den, el, None
    except PyopError as e:
        return str(e)


def attributes_match_block(
    cfg: RollupConfig, attrs: PayloadAttributes, parent_hash: Hash32, block: ExecutionPayload
) -> ConsolidationMismatch | None:
    """``None`` if ``block`` is what ``attrs`` on ``parent_hash`` would build, else the first
    field that differs (order: op-node's, then Holocene/Jovian/Isthmus header checks)."""

    def mm(field: str, derived: object, existing: object, detail: str = "") -> ConsolidationMismatch:
        def show(v: object) -> str:
            if isinstance(v, bytes):
                return _short(v)
            return "none" if v is None else str(v)

        return ConsolidationMismatch(field, show(derived), show(existing), block.id(), detail)

    if parent_hash != block.parent_hash:
        return mm("parent_hash", parent_hash, block.parent_hash)
    if attrs.timestamp != block.timestamp:
        return mm("timestamp", attrs.timestamp, block.timestamp)
    if attrs.prev_randao != block.prev_randao:
        return mm("prev_randao", attrs.prev_randao, block.prev_randao)
    if len(attrs.transactions) != len(block.transactions):
        d_hashes = [_tx_hash(t) for t in attrs.transactions]
        e_hashes = [_tx_hash(t) for t in block.transactions]
        only_d = [h for h in d_hashes if h not in e_hashes]
        only_e = [h for h in e_hashes if h not in d_hashes]
        return mm(
            "transactions (count)", len(attrs.transactions), len(block.transactions),
            f"only derived: {only_d[:5]}; only in block: {only_e[:5]}",
        )  # fmt: skip
    for i, (a, b) in enumerate(zip(attrs.transactions, block.transactions, strict=True)):
        if a != b:
            detail = l1_info_diff(a, b) if i == 0 else ""
            return mm(
                f"transactions[{i}]", _tx_hash(a), _tx_hash(b),
                detail or f"derived {_short(a, 24)}, existing {_short(b, 24)}",
            )  # fmt: skip
    if attrs.gas_limit != block.gas_limit:
        return mm("gas_limit", attrs.gas_limit, block.gas_limit)
    if (attrs.withdrawals is None) != (block.withdrawals is None):
        return mm(
            "withdrawals",
            "none" if attrs.withdrawals is None else f"{len(attrs.withdrawals)} withdrawals",
            "none" if block.withdrawals is None else f"{len(block.withdrawals)} withdrawals",
        )
    if attrs.withdrawals is not None and block.withdrawals is not None:
        if len(attrs.withdrawals) != len(block.withdrawals):
            return mm("withdrawals (count)", len(attrs.withdrawals), len(block.withdrawals))
        for i, (wa, wb) in enumerate(zip(attrs.withdrawals, block.withdrawals, strict=True)):
            if wa != wb:
                return mm(f"withdrawals[{i}]", wa, wb)
    if attrs.parent_beacon_block_root != block.parent_beacon_block_root:
        return mm("parent_beacon_block_root", attrs.parent_beacon_block_root, block.parent_beacon_block_root)
    if attrs.suggested_fee_recipient != block.fee_recipient:
        return mm("fee_recipient", attrs.suggested_fee_recipient, block.fee_recipient)
    if cfg.is_holocene(block.timestamp):  # [New in Holocene]
        got = _eip1559_of_header(cfg, block)
        if isinstance(got, str):
            return mm("extra_data", "Holocene EIP-1559 params", block.extra_data, got)
        if attrs.eip1559_params is None or len(attrs.eip1559_params) != 8:
            return mm("eip1559_params", attrs.eip1559_params, f"{got[0]}/{got[1]}",
                      "attributes lack eip1559Params while Holocene is active")  # fmt: skip
        den = int.from_bytes(attrs.eip1559_params[:4], "big")
        el = int.from_bytes(attrs.eip1559_params[4:], "big")
        if den == 0 and el == 0 and cfg.chain_op_config is not None:
            # zero params: the engine uses the chain's Canyon constants (holocene/exec-engine.md)
            coc = cfg.chain_op_config
            den = coc.eip1559_denominator_canyon or coc.eip1559_denominator
            el = coc.eip1559_elasticity
        if den == 0 and el == 0:
            pass  # no chain config to translate zero params: nothing to compare against
        elif (den, el) != got[:2]:
            return mm("eip1559_params (denominator/elasticity)", f"{den}/{el}", f"{got[0]}/{got[1]}")
        if cfg.is_jovian(block.timestamp) and attrs.min_base_fee != got[2]:  # [New in Jovian]
            return mm("min_base_fee", attrs.min_base_fee, got[2])
    elif attrs.eip1559_params is not None:
        return mm("eip1559_params", attrs.eip1559_params, None, "set before Holocene")
    if cfg.is_isthmus(block.timestamp) and block.withdrawals_root is None:  # [New in Isthmus]
        return mm("withdrawals_root", "the L2ToL1MessagePasser storage root", None)
    return None
