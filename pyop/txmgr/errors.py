"""Errors of the transaction manager (op-service/txmgr), typed by what the caller does next."""

from __future__ import annotations

from pyop.primitives import PyopError

__all__ = [
    "AlreadyReservedError",
    "BlobFeeLimitError",
    "FeeLimitError",
    "MempoolDeadlineError",
    "NonceTooLowError",
    "SendCancelledError",
    "SignerError",
    "TxManagerClosedError",
    "TxManagerConfigError",
    "TxManagerError",
]


class TxManagerError(PyopError):
    """Base class: the transaction was not (known to be) included."""


class TxManagerConfigError(TxManagerError):
    """A bad txmgr configuration (flag values, key)."""


class TxManagerClosedError(TxManagerError):
    """The manager is closed and takes no new transactions (Go ``txmgr.ErrClosed``)."""


class SignerError(TxManagerError):
    """No usable key (missing, malformed, or both a key and a mnemonic)."""


class FeeLimitError(TxManagerError):
    """A fee is above ``--txmgr.max-basefee`` / ``--txmgr.max-tip-cap``, or a bump would pass
    ``--fee-limit-multiplier`` times the suggested fee (Go ``checkLimits``)."""


class BlobFeeLimitError(FeeLimitError):
    """A bumped blob fee cap would pass the multiplier limit (Go ``ErrBlobFeeLimit``)."""


class NonceTooLowError(TxManagerError):
    """``--safe-abort-nonce-too-low-count`` "nonce too low" answers without a receipt: another
    transaction took the nonce (Go ``core.ErrNonceTooLow`` as a send-state critical error)."""


class MempoolDeadlineError(TxManagerError):
    """The transaction never made it into the mempool within ``--txmgr.not-in-mempool-timeout``
    (Go ``ErrMempoolDeadlineExpired``)."""


class AlreadyReservedError(TxManagerError):
    """The L1 pool holds a transaction of the other kind (blob vs non-blob) for this account
    (geth ``txpool.ErrAlreadyReserved``); the caller must cancel it."""


class SendCancelledError(TxManagerError):
    """The send was cancelled (shutdown, ``--txmgr.send-timeout``) before a receipt."""
