"""pyop's one L1 transaction manager, shared by the batcher and the proposer
(op-service/txmgr in Go).

Public API (stable; everything else is internal)::

    from pyop.txmgr import TxCandidate, TxManager, TxManagerConfig, connect

    mgr = await connect("http://127.0.0.1:8545", TxManagerConfig(num_confirmations=1),
                        LocalSigner(key), name="proposer")
    receipt = await mgr.send(TxCandidate(to=oracle, data=calldata))          # EIP-1559 tx
    receipt = await mgr.send(TxCandidate(to=inbox, blobs=(blob0, blob1)))    # EIP-4844 tx

- :class:`TxManager`: nonce tracking, EIP-1559 and blob fee estimation, fee bumping under
  geth's replacement rules (+10%, +100% for blob txs), ``--resubmission-timeout``,
  ``--num-confirmations``, ``--safe-abort-nonce-too-low-count``, fee limits, and L1 reorgs of
  confirmed txs (:meth:`TxManager.check_reorgs` / :meth:`TxManager.watch_reorgs` re-send what
  fell out). See :mod:`pyop.txmgr.manager`.
- :class:`TxQueue`: several sends in flight, at most ``max_pending`` (Go ``txmgr.Queue``).
- :data:`TXMGR_FLAGS` / :func:`txmgr_config_from_flags` / :func:`signer_from_flags`: the
  op-service txmgr flags (``--num-confirmations``, ``--private-key``, ...) for a service's
  flag list (env ``OP_<SERVICE>_*``).
- :class:`L1Backend`: the L1 interface (fake it in tests); :class:`RPCL1Backend` over JSON-RPC.
"""

from __future__ import annotations

from pyop.txmgr.backend import CallMsg, Header, L1Backend, Receipt, RPCL1Backend, SendTxError
from pyop.txmgr.blobs import BlobSidecar, make_sidecar, network_encoding
from pyop.txmgr.config import (
    GWEI,
    TXMGR_FLAGS,
    TxManagerConfig,
    gwei_to_wei,
    txmgr_config_from_flags,
)
from pyop.txmgr.errors import (
    AlreadyReservedError,
    BlobFeeLimitError,
    FeeLimitError,
    MempoolDeadlineError,
    NonceTooLowError,
    SendCancelledError,
    SignerError,
    TxManagerClosedError,
    TxManagerConfigError,
    TxManagerError,
)
from pyop.txmgr.fees import GasPriceCaps
from pyop.txmgr.manager import PreparedTx, ReorgedTx, TxCandidate, TxManager
from pyop.txmgr.metrics import TxMetrics
from pyop.txmgr.queue import TxQueue, TxReceipt
from pyop.txmgr.signer import LocalSigner, UnsignedTx, address_of_key, signer_from_flags

__all__ = [
    "GWEI",
    "TXMGR_FLAGS",
    "AlreadyReservedError",
    "BlobFeeLimitError",
    "BlobSidecar",
    "CallMsg",
    "FeeLimitError",
    "GasPriceCaps",
    "Header",
    "L1Backend",
    "LocalSigner",
    "MempoolDeadlineError",
    "NonceTooLowError",
    "PreparedTx",
    "RPCL1Backend",
    "Receipt",
    "ReorgedTx",
    "SendCancelledError",
    "SendTxError",
    "SignerError",
    "TxCandidate",
    "TxManager",
    "TxManagerClosedError",
    "TxManagerConfig",
    "TxManagerConfigError",
    "TxManagerError",
    "TxMetrics",
    "TxQueue",
    "TxReceipt",
    "UnsignedTx",
    "address_of_key",
    "connect",
    "gwei_to_wei",
    "make_sidecar",
    "network_encoding",
    "signer_from_flags",
    "txmgr_config_from_flags",
]


async def connect(l1_url: str, cfg: TxManagerConfig, signer: LocalSigner, *, name: str = "txmgr",
                  metrics: TxMetrics | None = None) -> TxManager:  # fmt: skip
    """A :class:`TxManager` on the L1 at ``l1_url`` (reads its chain id; Go ``NewConfig``)."""
    backend = RPCL1Backend.connect(l1_url, timeout=cfg.network_timeout)
    try:
        chain_id = await backend.chain_id()
    except BaseException:
        await backend.close()
        raise
    return TxManager(cfg, backend, signer, chain_id, name=name, metrics=metrics)
