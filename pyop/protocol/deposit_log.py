"""User deposits: ``TransactionDeposited`` logs of the deposit contract <-> deposited txs.

Spec: specs/protocol/deposits.md, "Deposit Contract" and "User-Deposited Transactions";
specs/protocol/derivation.md, "Deriving the Transaction List" (user deposits of an epoch's
first L2 block are the deposit logs of the L1 origin's successful receipts, in order).

The event is::

    event TransactionDeposited(address indexed from, address indexed to,
                               uint256 indexed version, bytes opaqueData);

and version 0 ``opaqueData`` is ``abi.encodePacked(uint256 mint, uint256 value, uint64 gas,
bool isCreation, bytes data)`` (73 bytes + data).

Validity checks mirror op-node ``op-node/rollup/derive/deposit_log.go``
(``UnmarshalDepositLogEvent``), in its order:

1. exactly 4 topics; 2. topic 0 is the event signature hash; 3. data has at least 64 bytes
(the ABI offset and length words); 4. data is a multiple of 32 bytes; 5. the offset word is 32;
6. the length word fits in a uint64, is at most ``len(data) - 64``, and the padding is minimal
(``length + 32 > len(data) - 64``); 7. the version topic is 0; 8. opaque data has at least 73
bytes. ``isCreation`` is any non-zero byte (op-node: ``to`` is set only when the byte is 0).

op-node does not look at the 12 padding bytes of the ``from``/``to`` topics, nor at the ABI
padding bytes after ``opaqueData``; kona (``crates/protocol/protocol/src/deposits.rs``) rejects
non-zero ones. ``strict=True`` adds kona's two checks; the default is op-node's behaviour. (The
deposit contract never emits such logs, so neither choice changes a real chain. kona also reads
only the low 16 bytes of ``mint``; op-node and pyop read all 32.)
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_hash.auto import keccak

from pyop.primitives import ZERO_HASH, Address, Hash32, PyopError
from pyop.protocol.deposits import DepositTx, user_deposit_source_hash
from pyop.protocol.l1_types import Log, Receipt

DEPOSIT_EVENT_ABI = "TransactionDeposited(address,address,uint256,bytes)"
DEPOSIT_EVENT_ABI_HASH: Hash32 = keccak(DEPOSIT_EVENT_ABI.encode())
"""``0xb3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32``."""
DEPOSIT_EVENT_VERSION_0: Hash32 = ZERO_HASH

_OPAQUE_HEADER = 32 + 32 + 8 + 1  # mint, value, gas, isCreation
_U64_MAX = 2**64 - 1


class DepositLogError(PyopError, ValueError):
    """A malformed ``TransactionDeposited`` log (op-node: "malformatted L1 deposit log")."""


class UserDepositsError(DepositLogError):
    """One or more deposit logs of a block were malformed.

    ``errors`` lists them (``(receipt index, log index in receipt, error)``); ``deposits`` holds
    the deposits that did decode, like op-node's ``UserDeposits`` which returns both. op-node's
    attributes builder treats this as a critical error.
    """

    def __init__(
        self, errors: list[tuple[int, int, DepositLogError]], deposits: list[DepositTx]
    ) -> None:
        self.errors = errors
        self.deposits = deposits
        detail = "; ".join(f"receipt {i}, log {j}: {e}" for i, j, e in errors)
        super().__init__(f"{len(errors)} malformatted L1 deposit log(s): {detail}")


def deposit_tx_from_log(log: Log, *, strict: bool = False) -> DepositTx:
    """Decode a ``TransactionDeposited`` log into the user-deposited transaction.

    deposits.md#user-deposited-transactions: ``sourceHash`` is the user-deposit source hash of
    ``(log.block_hash, log.log_index)``; ``isSystemTx`` is false. Raises
    :class:`DepositLogError` naming the problem (see the module docstring for the checks).
    """
    topics = log.topics
    data = log.data
    if len(topics) != 4:
        raise DepositLogError(
            "expected 4 event topics (event identity, indexed from, indexed to, indexed "
            f"version), got {len(topics)}"
        )
    for i, t in enumerate(topics):
        if len(t) != 32:
            raise DepositLogError(f"topic {i} must be 32 bytes, got {len(t)}")
    if topics[0] != DEPOSIT_EVENT_ABI_HASH:
        raise DepositLogError(
            f"invalid deposit event selector: 0x{topics[0].hex()}, "
            f"expected 0x{DEPOSIT_EVENT_ABI_HASH.hex()}"
        )
    if len(data) < 64:
        raise DepositLogError(f"incomplete opaqueData slice header ({len(data)} bytes)")
    if len(data) % 32 != 0:
        raise DepositLogError(
            f"expected log data to be a multiple of 32 bytes: got {len(data)} bytes"
        )
    if strict:
        for name, t in (("from", topics[1]), ("to", topics[2])):
            if any(t[:12]):
                raise DepositLogError(f"non-zero padding in the {name} address topic")
    offset = int.from_bytes(data[0:32], "big")
    if offset != 32:
        raise DepositLogError(f"invalid opaqueData slice header offset: {offset}")
    length = int.from_bytes(data[32:64], "big")
    available = len(data) - 64
    if length > _U64_MAX or length > available or length + 32 <= available:
        raise DepositLogError(
            f"invalid opaqueData slice header length: {length} "
            f"({available} bytes of content and padding)"
        )
    if strict and any(data[64 + length :]):
        raise DepositLogError("non-zero ABI padding after opaqueData")
    opaque = data[64 : 64 + length]

    version = topics[3]
    if version != DEPOSIT_EVENT_VERSION_0:
        raise DepositLogError(f"invalid deposit version, got 0x{version.hex()}")
    if len(opaque) < _OPAQUE_HEADER:
        raise DepositLogError(
            f"failed to decode deposit (version 0): unexpected opaqueData length: {len(opaque)}"
        )
    to: Address | None = bytes(topics[2][12:]) if opaque[72] == 0 else None
    return DepositTx(
        source_hash=user_deposit_source_hash(log.block_hash, log.log_index),
        from_=bytes(topics[1][12:]),
        to=to,
        mint=int.from_bytes(opaque[0:32], "big"),
        value=int.from_bytes(opaque[32:64], "big"),
        gas=int.from_bytes(opaque[64:72], "big"),
        is_system_tx=False,
        data=bytes(opaque[_OPAQUE_HEADER:]),
    )


def user_deposits_from_receipts(
    receipts: Iterable[Receipt], deposit_contract: Address, *, strict: bool = False
) -> list[DepositTx]:
    """The user deposits of an L1 block, in log order (op-node ``derive.UserDeposits``).

    derivation.md#deriving-the-transaction-list: only successful receipts count, and only logs
    emitted by ``deposit_contract`` whose first topic is the ``TransactionDeposited`` hash.
    Like op-node, every matching log is tried; if any is malformed, :class:`UserDepositsError`
    is raised at the end, carrying all the errors and the deposits that did decode.
    """
    out: list[DepositTx] = []
    errors: list[tuple[int, int, DepositLogError]] = []
    for i, rec in enumerate(receipts):
        if not rec.successful:
            continue
        for j, log in enumerate(rec.logs):
            if (
                log.address == deposit_contract
                and len(log.topics) > 0
                and log.topics[0] == DEPOSIT_EVENT_ABI_HASH
            ):
                try:
                    out.append(deposit_tx_from_log(log, strict=strict))
                except DepositLogError as e:
                    errors.append((i, j, e))
    if errors:
        raise UserDepositsError(errors, out)
    return out


def encode_deposit_opaque_data(tx: DepositTx) -> bytes:
    """Version-0 ``opaqueData``: ``mint(32) ++ value(32) ++ gas(8) ++ isCreation(1) ++ data``."""
    if not (0 <= tx.mint < 2**256 and 0 <= tx.value < 2**256 and 0 <= tx.gas <= _U64_MAX):
        raise DepositLogError("deposit: mint/value must fit in uint256 and gas in uint64")
    return (
        tx.mint.to_bytes(32, "big")
        + tx.value.to_bytes(32, "big")
        + tx.gas.to_bytes(8, "big")
        + (b"\x01" if tx.to is None else b"\x00")
        + tx.data
    )


def encode_deposit_log(
    deposit_contract: Address,
    tx: DepositTx,
    *,
    block_hash: Hash32 = ZERO_HASH,
    log_index: int = 0,
    block_number: int = 0,
) -> Log:
    """The ``TransactionDeposited`` log the deposit contract would emit for ``tx``.

    The reverse of :func:`deposit_tx_from_log` (op-node ``MarshalDepositLogEvent``): topics
    ``[event hash, from, to (zero for a creation), version 0]``, data ``abi.encode(opaqueData)``.
    ``tx.source_hash`` and ``tx.is_system_tx`` are not encoded: decoding the log gives the
    source hash of ``(block_hash, log_index)``.
    """
    opaque = encode_deposit_opaque_data(tx)
    pad = (-len(opaque)) % 32
    data = (32).to_bytes(32, "big") + len(opaque).to_bytes(32, "big") + opaque + bytes(pad)
    to_topic = bytes(12) + tx.to if tx.to is not None else ZERO_HASH
    return Log(
        address=deposit_contract,
        topics=(DEPOSIT_EVENT_ABI_HASH, bytes(12) + tx.from_, to_topic, DEPOSIT_EVENT_VERSION_0),
        data=data,
        block_hash=block_hash,
        log_index=log_index,
        block_number=block_number,
    )
