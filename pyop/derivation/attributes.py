"""Payload attributes for the next L2 block (the "attributes builder").

Spec: specs/protocol/derivation.md "Building Individual Payload Attributes" and "Deriving the
Transaction List" (L1-info deposit, then the epoch's user deposits on its first block only, then
the network upgrade transactions, then the batch's transactions), exec-engine.md "Extended
PayloadAttributesV1..V3" (fields per fork), canyon (``withdrawals = []``), ecotone/derivation.md
(``parentBeaconBlockRoot`` = the L1 origin's), holocene/derivation.md "Attributes Builder"
(``eip1559Params``: zero on the activation block, else the SystemConfig's), jovian/exec-engine.md
(``minBaseFee``), ecotone/l1-attributes.md + pectra-blob-schedule/derivation.md (the L1 blob
base fee). Go: op-node/rollup/derive/attributes.go (``PreparePayloadAttributes``); kona:
attributes/stateful.rs.

The SystemConfig used is the L2 parent's (``L2Source.system_config_by_l2_hash``), updated with
the ``ConfigUpdate`` logs of a new epoch's L1 origin, as op-node does.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyop.config import RollupConfig
from pyop.config.l1_chains import L1BlobSchedule, L1ChainConfigError, builtin_l1_blob_schedule
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import CriticalError, ResetError, TemporaryError
from pyop.derivation.interfaces import L1Source, L2Source, NotFound
from pyop.primitives import (
    ZERO_HASH,
    BlockID,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    SystemConfig,
    to_hex,
)
from pyop.protocol.deposit_log import UserDepositsError, user_deposits_from_receipts
from pyop.protocol.l1_info import (
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
    MIN_BLOB_GASPRICE,
    L1OriginInfo,
    blob_base_fee,
    l1_info_deposit_tx,
)
from pyop.protocol.predeploys import SEQUENCER_FEE_VAULT
from pyop.protocol.system_config import update_system_config_from_receipts
from pyop.protocol.upgrades import upgrade_gas_at, upgrade_txs_at

STAGE = "attributes"

__all__ = [
    "AttributesBuilder",
    "L1BlobSchedule",
    "blob_base_fee_update_fraction",
    "build_payload_attributes",
    "eip1559_params_for",
    "l1_origin_info",
    "prepare_payload_attributes",
]


def blob_base_fee_update_fraction(
    cfg: RollupConfig, header: L1Header, schedule: L1BlobSchedule | None = None
) -> int:
    """The ``BLOB_BASE_FEE_UPDATE_FRACTION`` for the L1-info deposit of an L1 origin.

    pectra-blob-schedule/derivation.md: if ``pectra_blob_schedule_time`` is set, origins before
    it use the Cancun fraction (the Sepolia/Holesky op-node bug, kept for consensus; op-node
    ``L1InfoDeposit`` ``eth.CalcBlobFeeCancun``). Otherwise the fraction the L1 chain config
    gives at the origin's timestamp (op-geth ``eip4844.CalcBlobFee``): ``schedule``, or the
    built-in one of ``cfg.l1_chain_id`` (:mod:`pyop.config.l1_chains`). An L1 without either is
    a :class:`CriticalError`: guessing the fork from the header cannot see BPO forks, and
    op-node refuses to run without the L1 chain config.
    """
    if cfg.pectra_blob_schedule_time is not None and not cfg.is_pectra_blob_schedule(header.timestamp):
        return BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
    sched = schedule if schedule is not None else builtin_l1_blob_schedule(cfg.l1_chain_id)
    if sched is None:
        raise CriticalError(
            f"L1 origin {header.number} has excess blob gas but L1 chain {cfg.l1_chain_id} has no "
            "blob schedule: give the L1 chain config (--rollup.l1-chain-config)"
        )
    try:
        return sched.fraction_at(header.timestamp)
    except L1ChainConfigError as e:
        raise CriticalError(f"blob base fee of L1 origin {header.number}: {e}") from None


def l1_origin_info(
    cfg: RollupConfig, header: L1Header, schedule: L1BlobSchedule | None = None
) -> L1OriginInfo:
    """The L1 origin fields of the L1-info deposit; ``blob_base_fee`` is ``None`` before Cancun
    on L1 (the deposit then carries 1, ecotone/l1-attributes.md)."""
    fee = None
    if header.excess_blob_gas == 0:
        fee = MIN_BLOB_GASPRICE  # fake_exponential(1, 0, any fraction) = 1: no schedule needed
    elif header.excess_blob_gas is not None:
        fee = blob_base_fee(header.excess_blob_gas, blob_base_fee_update_fraction(cfg, header, schedule))
    return L1OriginInfo(header.hash, header.number, header.timestamp, header.base_fee, fee)


def eip1559_params_for(cfg: RollupConfig, sys_cfg: SystemConfig, next_time: int) -> bytes | None:
    """[New in Holocene] ``eip1559Params``: ``None`` before Holocene, from Holocene the
    SystemConfig's ``eip1559Params`` (op-node ``PreparePayloadAttributes``, attributes.go:
    ``if IsHolocene(nextL2Time) { r.EIP1559Params = sysConfig.EIP1559Params }``).

    Deliberate choice: we follow op-node v1.19.6, our reference, also on the Holocene
    activation block. The spec (holocene/derivation.md "Attributes Builder") and kona
    (``SystemConfig::eip_1559_params``) put 8 zero bytes there when the parent is pre-Holocene
    (the engine then uses the Canyon constants). The two agree whenever the SystemConfig
    rebuilt from a pre-Holocene parent has zero params, which is the usual case (op-node's
    ``PayloadToSystemConfig`` reads none from a pre-Holocene header). They differ when the
    activation block starts an epoch whose L1 receipts carry an ``EIP_1559_PARAMS``
    ConfigUpdate, or when the parent is L2 genesis with non-zero genesis ``eip1559Params``:
    op-node then sends the new params, op-geth writes them into ``extraData``, and the block
    hash depends on it. Deriving op-node's chain matters more here than the spec text.
    """
    if not cfg.is_holocene(next_time):
        return None
    return bytes(sys_cfg.eip1559_params)


def build_payload_attributes(
    cfg: RollupConfig,
    sys_cfg: SystemConfig,
    l1_header: L1Header,
    l2_parent: L2BlockRef,
    *,
    seq_number: int,
    user_deposits: Sequence[bytes] = (),
    blob_schedule: L1BlobSchedule | None = None,
    blob_base_fee_override: int | None = None,
) -> PayloadAttributes:
    """The attributes of the block after ``l2_parent`` with L1 origin ``l1_header``, without
    batch transactions (pure; :class:`AttributesBuilder` fetches the inputs).

    Transactions: L1-info deposit, ``user_deposits`` (first block of an epoch), upgrade txs of
    the forks activating at this block (Ecotone, Fjord, Isthmus, Jovian; derivation.md
    "Network upgrade automation transactions"; the NUT bundles of Karst and Lagoon, op-node
    v1.19.6). Gas limit: the SystemConfig's, plus the NUT bundles' upgrade gas at the Karst /
    Lagoon activation block (:func:`~pyop.protocol.upgrades.upgrade_gas_at`). Lagoon's interop
    wrapper deposits need a dependency set of two or more chains, which pyop does not model:
    it derives the single-chain activation block. Raises :class:`ResetError` if the L2 time would
    be before the L1 origin's time (derivation.md: ``l2 time >= l1 origin time``).
    ``blob_base_fee_override`` replaces the blob base fee computed from the header (for tools
    and fixtures that know the fee but not the L1 chain's blob schedule).
    """
    next_time = l2_parent.timestamp + cfg.block_time
    if next_time < l1_header.timestamp:
        raise ResetError(
            f"cannot build L2 block on {l2_parent.number} for time {next_time} before L1 origin "
            f"{l1_header.number} at time {l1_header.timestamp}"
        )
    info = l1_origin_info(cfg, l1_header, blob_schedule)
    if blob_base_fee_override is not None:
        info = L1OriginInfo(info.hash, info.number, info.timestamp, info.base_fee, blob_base_fee_override)
    l1_info_tx = l1_info_deposit_tx(cfg, sys_cfg, info, seq_number, next_time).encode()
    txs = (l1_info_tx, *user_deposits, *upgrade_txs_at(cfg, next_time))
    # [New in Karst] NUT-bundle upgrade gas on top of the SystemConfig's gas limit (op-node).
    gas_limit = sys_cfg.gas_limit + upgrade_gas_at(cfg, next_time)
    parent_beacon_root = None
    if cfg.is_ecotone(next_time):  # [New in Ecotone]
        parent_beacon_root = l1_header.parent_beacon_root or ZERO_HASH
    return PayloadAttributes(
        timestamp=next_time,
        prev_randao=l1_header.mix_digest,
        suggested_fee_recipient=SEQUENCER_FEE_VAULT,
        transactions=txs,
        no_tx_pool=True,
        gas_limit=gas_limit,
        withdrawals=() if cfg.is_canyon(next_time) else None,  # [New in Canyon]
        parent_beacon_block_root=parent_beacon_root,
        eip1559_params=eip1559_params_for(cfg, sys_cfg, next_time),
        min_base_fee=sys_cfg.min_base_fee if cfg.is_jovian(next_time) else None,  # [New in Jovian]
    )


class AttributesBuilder:
    """Fetches what :func:`build_payload_attributes` needs (op-node ``FetchingAttributesBuilder``)."""

    def __init__(
        self,
        cfg: RollupConfig,
        l1: L1Source,
        l2: L2Source,
        *,
        explainer: Explainer | None = None,
        blob_schedule: L1BlobSchedule | None = None,
    ) -> None:
        self.cfg = cfg
        self.l1 = l1
        self.l2 = l2
        self.ex = explainer if explainer is not None else Explainer()
        self.blob_schedule = blob_schedule

    def prepare_payload_attributes(self, l2_parent: L2BlockRef, epoch: BlockID) -> PayloadAttributes:
        """Attributes for the block after ``l2_parent`` in ``epoch`` (no batch txs yet).

        A new epoch (``epoch`` differs from the parent's L1 origin number): the origin's user
        deposits are included, its ``ConfigUpdate`` logs applied, sequence number 0; its parent
        must be the parent's L1 origin, else :class:`ResetError`. Same epoch: sequence number
        + 1; the hash must match, else :class:`ResetError`. Missing L1/L2 data:
        :class:`TemporaryError`. Malformed deposit logs: :class:`CriticalError` (op-node).
        """
        cfg = self.cfg
        try:
            sys_cfg = self.l2.system_config_by_l2_hash(l2_parent.hash)
        except NotFound as e:
            raise TemporaryError(f"system config of L2 block {l2_parent.number}: {e}") from None
        deposits: list[bytes] = []
        if l2_parent.l1_origin.number != epoch.number:
            header = self._header(epoch)
            if header.parent_hash != l2_parent.l1_origin.hash:
                raise ResetError(
                    f"cannot create a block with L1 origin {epoch.number} ({to_hex(epoch.hash)}, "
                    f"parent {to_hex(header.parent_hash)}) on top of L1 origin "
                    f"{l2_parent.l1_origin.number} ({to_hex(l2_parent.l1_origin.hash)})"
                )
            try:
                receipts = self.l1.receipts_by_hash(epoch.hash)
            except NotFound as e:
                raise TemporaryError(f"receipts of L1 block {epoch.number}: {e}") from None
            try:
                deposits = [d.encode() for d in user_deposits_from_receipts(receipts, cfg.deposit_contract_address)]
            except UserDepositsError as e:
                raise CriticalError(f"failed to derive deposits of L1 block {epoch.number}: {e}") from None
            res = update_system_config_from_receipts(
                sys_cfg, receipts, cfg.l1_system_config_address,
                ecotone_active=cfg.is_ecotone(header.timestamp),
            )  # fmt: skip
            for rec_i, log_i, err in res.errors:
                self.ex.drop(STAGE, DropReason.SYSTEM_CONFIG_LOG_INVALID, str(err),
                             {"receipt": rec_i, "log": log_i}, epoch)  # fmt: skip
            sys_cfg = res.config
            seq = 0
        else:
            if l2_parent.l1_origin.hash != epoch.hash:
                raise ResetError(
                    f"cannot create a block with L1 origin {epoch.number} ({to_hex(epoch.hash)}) "
                    f"in conflict with L1 origin {to_hex(l2_parent.l1_origin.hash)}"
                )
            header = self._header(epoch)
            seq = l2_parent.sequence_number + 1
        return build_payload_attributes(
            cfg, sys_cfg, header, l2_parent, seq_number=seq, user_deposits=deposits,
            blob_schedule=self.blob_schedule,
        )  # fmt: skip

    def _header(self, epoch: BlockID) -> L1Header:
        try:
            return self.l1.header_by_hash(epoch.hash)
        except NotFound as e:
            raise TemporaryError(f"L1 header {epoch.number} ({to_hex(epoch.hash)}): {e}") from None


def prepare_payload_attributes(
    cfg: RollupConfig,
    l1: L1Source,
    l2: L2Source,
    l2_parent: L2BlockRef,
    epoch: BlockID,
    *,
    blob_schedule: L1BlobSchedule | None = None,
) -> PayloadAttributes:
    """Function form of :meth:`AttributesBuilder.prepare_payload_attributes`."""
    return AttributesBuilder(cfg, l1, l2, blob_schedule=blob_schedule).prepare_payload_attributes(l2_parent, epoch)
