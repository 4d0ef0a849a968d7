"""The L1 chain's blob schedule: which EIP-4844 blob parameters apply at an L1 timestamp.

The L1-info deposit carries the L1 origin's blob base fee (ecotone/l1-attributes.md), computed
from the header's ``excessBlobGas`` with the ``BLOB_BASE_FEE_UPDATE_FRACTION`` of the L1 fork
active at the origin's timestamp: Cancun (EIP-4844), Prague (EIP-7691), then the blob-parameter-
only forks BPO1.. (EIP-7892; Osaka itself, EIP-7918, changes the excess-gas rule an L1 node
applies, not the fee formula derivation uses). op-node v1.19.6 takes the schedule from an L1
chain config:

- op-node/service.go ``NewL1ChainConfig``: for L1 chain ids 1, 11155111, 17000 and 560048 the
  built-in op-geth configs (``eth.L1ChainConfigByChainID``: ``params.MainnetChainConfig``,
  ``SepoliaChainConfig``, ``HoleskyChainConfig``, ``HoodiChainConfig``), even when
  ``--rollup.l1-chain-config`` is given; any other L1 needs that flag, a go-ethereum
  ``ChainConfig`` JSON (or a genesis file's ``config``) with the same chain id and a
  ``blobSchedule`` (an OP Stack L1, i.e. a config with ``optimism``, needs none), else op-node
  refuses to start.
- op-geth consensus/misc/eip4844 ``latestBlobConfig``: the first of BPO5, BPO4, BPO3, BPO2,
  BPO1, Osaka, Prague, Cancun that is active at the timestamp (its time set and ``<=`` it, and
  London set) *and* has an entry in the ``blobSchedule``; none at all is an error (op-geth
  panics). ``CalcBlobFee`` on an OP Stack L1 config is always 1 (excess must be 0).

:data:`BUILTIN_L1_BLOB_SCHEDULES` is that data for the four public L1s, copied from op-geth
v1.101702.3-rc.7 ``params/config.go`` (the version optimism v1.19.6's go.mod pins): the fork
times of ``MainnetChainConfig`` etc. and the ``Default{Cancun,Prague,Osaka,BPO1,BPO2}BlobConfig``
values. ``spec_vectors/l1info/go-v1.19.6-blob-fees.json`` holds fees computed by op-geth itself
from those configs (``interop/go/vectors``); ``tests/config/test_config_l1_chains.py`` checks
every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pyop.config.errors import RollupConfigError


class L1ChainConfigError(RollupConfigError):
    """No usable L1 blob schedule (unknown L1 without a config, bad file, chain id mismatch,
    a timestamp before the first blob fork)."""


@dataclass(frozen=True, slots=True)
class BlobConfig:
    """go-ethereum ``params.BlobConfig``: ``target`` / ``max`` blobs per block and
    ``baseFeeUpdateFraction`` (``BLOB_BASE_FEE_UPDATE_FRACTION``)."""

    target: int
    max: int
    update_fraction: int


#: EIP-4844 (op-geth ``DefaultCancunBlobConfig``).
CANCUN_BLOB_CONFIG = BlobConfig(target=3, max=6, update_fraction=3_338_477)
#: EIP-7691 (op-geth ``DefaultPragueBlobConfig``).
PRAGUE_BLOB_CONFIG = BlobConfig(target=6, max=9, update_fraction=5_007_716)
#: Osaka keeps Prague's parameters (op-geth ``DefaultOsakaBlobConfig``).
OSAKA_BLOB_CONFIG = BlobConfig(target=6, max=9, update_fraction=5_007_716)
#: EIP-7892 BPO1 (op-geth ``DefaultBPO1BlobConfig``).
BPO1_BLOB_CONFIG = BlobConfig(target=10, max=15, update_fraction=8_346_193)
#: EIP-7892 BPO2 (op-geth ``DefaultBPO2BlobConfig``).
BPO2_BLOB_CONFIG = BlobConfig(target=14, max=21, update_fraction=11_684_671)

#: The forks that can carry blob parameters, in op-geth ``latestBlobConfig``'s order of
#: precedence (latest first). ``verkle`` / ``amsterdam`` entries exist in the JSON schema but
#: v1.101702.3-rc.7 never consults them for the fee.
BLOB_FORKS: tuple[str, ...] = ("bpo5", "bpo4", "bpo3", "bpo2", "bpo1", "osaka", "prague", "cancun")


@dataclass(frozen=True, slots=True)
class L1BlobSchedule:
    """The blob-fee part of an L1 chain config (go-ethereum ``ChainConfig``).

    ``forks``: ``(fork, activation time, BlobConfig or None)`` for the forks in
    :data:`BLOB_FORKS` whose time is set; ``london`` whether ``londonBlock`` is set (op-geth
    checks every time fork with ``IsLondon``); ``optimism`` an OP Stack L1 (its blob base fee is
    always 1). ``source`` says where it came from (for messages).
    """

    chain_id: int
    forks: tuple[tuple[str, int, BlobConfig | None], ...]
    london: bool = True
    optimism: bool = False
    source: str = ""

    def blob_config_at(self, l1_timestamp: int) -> BlobConfig:
        """The blob parameters in force at ``l1_timestamp`` (op-geth ``latestBlobConfig``).

        Raises :class:`L1ChainConfigError` if no blob fork with parameters is active.
        """
        by_fork = {f: (t, bc) for f, t, bc in self.forks}
        if self.london:
            for fork in BLOB_FORKS:
                entry = by_fork.get(fork)
                if entry is not None and entry[0] <= l1_timestamp and entry[1] is not None:
                    return entry[1]
        raise L1ChainConfigError(
            f"L1 chain {self.chain_id} ({self.source or 'blob schedule'}): no blob parameters "
            f"active at L1 time {l1_timestamp} (before Cancun on that L1?)"
        )

    def fraction_at(self, l1_timestamp: int) -> int:
        """``BLOB_BASE_FEE_UPDATE_FRACTION`` at ``l1_timestamp`` (see :meth:`blob_config_at`)."""
        return self.blob_config_at(l1_timestamp).update_fraction

    def has_blob_schedule(self) -> bool:
        """True if any fork carries blob parameters (op-node requires one for a non-OP L1)."""
        return any(bc is not None for _, _, bc in self.forks)


def _schedule(chain_id: int, name: str, times: Mapping[str, int]) -> L1BlobSchedule:
    params = {
        "cancun": CANCUN_BLOB_CONFIG,
        "prague": PRAGUE_BLOB_CONFIG,
        "osaka": OSAKA_BLOB_CONFIG,
        "bpo1": BPO1_BLOB_CONFIG,
        "bpo2": BPO2_BLOB_CONFIG,
    }
    forks = tuple((f, times[f], params[f]) for f in BLOB_FORKS if f in times)
    return L1BlobSchedule(
        chain_id, forks, source=f"built-in {name} config, op-geth v1.101702.3-rc.7"
    )


#: op-node's built-in L1 chain configs (op-service/eth/config.go ``L1ChainConfigByChainID``),
#: reduced to what the blob base fee needs. Times: op-geth v1.101702.3-rc.7 params/config.go.
BUILTIN_L1_BLOB_SCHEDULES: Mapping[int, L1BlobSchedule] = {
    1: _schedule(1, "mainnet", {
        "cancun": 1710338135, "prague": 1746612311, "osaka": 1764798551,
        "bpo1": 1765290071, "bpo2": 1767747671,
    }),
    11155111: _schedule(11155111, "sepolia", {
        "cancun": 1706655072, "prague": 1741159776, "osaka": 1760427360,
        "bpo1": 1761017184, "bpo2": 1761607008,
    }),
    17000: _schedule(17000, "holesky", {
        "cancun": 1707305664, "prague": 1740434112, "osaka": 1759308480,
        "bpo1": 1759800000, "bpo2": 1760389824,
    }),
    560048: _schedule(560048, "hoodi", {
        "cancun": 0, "prague": 1742999832, "osaka": 1761677592,
        "bpo1": 1762365720, "bpo2": 1762955544,
    }),
}  # fmt: skip


def builtin_l1_blob_schedule(l1_chain_id: int) -> L1BlobSchedule | None:
    """The built-in schedule of a public L1 (see :data:`BUILTIN_L1_BLOB_SCHEDULES`), or None."""
    return BUILTIN_L1_BLOB_SCHEDULES.get(l1_chain_id)


def _int(obj: Mapping[str, object], key: str, where: str) -> int | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise L1ChainConfigError(f"{where}: {key} must be a non-negative integer, got {v!r}")
    return v


def l1_blob_schedule_from_json(obj: object, where: str = "L1 chain config") -> L1BlobSchedule:
    """Read a go-ethereum ``params.ChainConfig`` JSON object (or a genesis object, whose
    ``config`` is used, as op-node ``NewL1ChainConfigFromCLI`` does).

    Used keys: ``chainId``, ``londonBlock``, ``<fork>Time`` and ``blobSchedule.<fork>``
    (``target``, ``max``, ``baseFeeUpdateFraction``) for the forks of :data:`BLOB_FORKS`, and
    the presence of ``optimism``. Other keys are ignored.
    """
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict) and "chainId" not in obj:
        obj = obj["config"]
    if not isinstance(obj, dict):
        raise L1ChainConfigError(f"{where}: not a chain config object")
    chain_id = _int(obj, "chainId", where)
    if chain_id is None:
        raise L1ChainConfigError(f"{where}: missing chainId")
    sched = obj.get("blobSchedule") or {}
    if not isinstance(sched, dict):
        raise L1ChainConfigError(f"{where}: blobSchedule must be an object")
    forks: list[tuple[str, int, BlobConfig | None]] = []
    for fork in BLOB_FORKS:
        t = _int(obj, f"{fork}Time", where)
        bc: BlobConfig | None = None
        entry = sched.get(fork)
        if entry is not None:
            if not isinstance(entry, dict):
                raise L1ChainConfigError(f"{where}: blobSchedule.{fork} must be an object")
            w = f"{where}: blobSchedule.{fork}"
            target, mx, frac = (
                _int(entry, k, w) for k in ("target", "max", "baseFeeUpdateFraction")
            )
            if target is None or mx is None or not frac:
                raise L1ChainConfigError(
                    f"{w}: needs target, max and a non-zero baseFeeUpdateFraction"
                )
            bc = BlobConfig(target, mx, frac)
        if t is not None:
            forks.append((fork, t, bc))
    return L1BlobSchedule(
        chain_id=chain_id,
        forks=tuple(forks),
        london=obj.get("londonBlock") is not None,
        optimism=obj.get("optimism") is not None,
        source=where,
    )


def load_l1_blob_schedule(path: str | PathLike[str]) -> L1BlobSchedule:
    """:func:`l1_blob_schedule_from_json` of a JSON file."""
    p = Path(path)
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise L1ChainConfigError(f"L1 chain config {p}: {e.strerror or e}") from None
    except ValueError as e:
        raise L1ChainConfigError(f"L1 chain config {p}: not JSON: {e}") from None
    return l1_blob_schedule_from_json(obj, str(p))


def resolve_l1_blob_schedule(
    l1_chain_id: int, configured: L1BlobSchedule | None = None
) -> L1BlobSchedule:
    """op-node ``NewL1ChainConfig``: the built-in schedule of a public L1 (``configured`` is
    then ignored, as op-node ignores ``--rollup.l1-chain-config`` for those chains); for any
    other L1 ``configured``, which must have the same chain id and, unless it is an OP Stack
    chain, a blob schedule. Raises :class:`L1ChainConfigError` otherwise."""
    builtin = builtin_l1_blob_schedule(l1_chain_id)
    if builtin is not None:
        return builtin
    if configured is None:
        known = ", ".join(str(c) for c in BUILTIN_L1_BLOB_SCHEDULES)
        raise L1ChainConfigError(
            f"L1 chain id {l1_chain_id} has no built-in blob schedule (built in: {known}); "
            "give the L1 chain config (go-ethereum ChainConfig JSON with a blobSchedule) with "
            "--rollup.l1-chain-config"
        )
    if configured.chain_id != l1_chain_id:
        raise L1ChainConfigError(
            f"l1 chain config chain ID mismatch: {configured.chain_id} != {l1_chain_id} "
            f"({configured.source})"
        )
    if not configured.optimism and not configured.has_blob_schedule():
        raise L1ChainConfigError(
            f"L1 chain config does not have a blob schedule config ({configured.source})"
        )
    return configured
