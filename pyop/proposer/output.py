"""Output roots computed by the proposer from the L2 execution client, cross-checked against the
rollup node.

Spec: specs/protocol/proposals.md, "L2 Output Commitment Construction": ``output_root =
keccak256(version ‖ state_root ‖ withdrawal_storage_root ‖ block_hash)`` (version 0), the
withdrawal storage root being the storage root of the ``L2ToL1MessagePasser`` predeploy
(``0x4200…0016``). Where the proposer reads each part (op-service ``L2Client.outputV0``):

- ``state_root`` and ``block_hash``: the L2 block (``eth_getBlockByNumber``);
- before Isthmus: ``eth_getProof(L2ToL1MessagePasser, [], blockHash)``'s ``storageHash``, after
  verifying the account proof against the block's state root (:mod:`pyop.protocol.mpt_proof`);
- [New in Isthmus] the header's ``withdrawalsRoot``, which the Isthmus block header carries as
  that storage root (specs/protocol/isthmus/exec-engine.md "L2ToL1MessagePasser Storage Root in
  Header").

:meth:`OutputSource.checked_output` then asks the rollup node (pyop node or the Go op-node)
``optimism_outputAtBlock`` and compares root and block hash: a mismatch is an
:class:`OutputMismatchError` carrying both values, and the proposer does not propose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pyop.primitives import PyopError
from pyop.protocol.mpt_proof import ProofError, account_proof_from_json
from pyop.protocol.output_root import OutputV0
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER


class RPC(Protocol):
    """What this module needs of a JSON-RPC client (:class:`pyop.sources.rpc.AsyncRPCClient`)."""

    async def call(self, method: str, params: Any = ()) -> Any: ...


class OutputError(PyopError):
    """The output root of a block cannot be computed (missing block, bad proof, ...)."""


class OutputMismatchError(OutputError):
    """The rollup node's ``optimism_outputAtBlock`` disagrees with the proposer's own root."""

    def __init__(self, block: int, ours: Output, theirs: dict[str, Any]) -> None:
        self.block = block
        self.ours = ours
        self.theirs = theirs
        super().__init__(
            f"output root mismatch at L2 block {block}: computed 0x{ours.root.hex()} "
            f"(state root 0x{ours.output.state_root.hex()}, message passer storage root "
            f"0x{ours.output.message_passer_storage_root.hex()}, block hash "
            f"0x{ours.output.block_hash.hex()}), rollup node says {theirs.get('outputRoot')} "
            f"(state root {theirs.get('stateRoot')}, withdrawal storage root "
            f"{theirs.get('withdrawalStorageRoot')}, block hash "
            f"{(theirs.get('blockRef') or {}).get('hash')})"
        )


def _b32(v: object, what: str) -> bytes:
    s = str(v)
    try:
        b = bytes.fromhex(s.removeprefix("0x"))
    except ValueError:
        raise OutputError(f"{what} is not hex: {s!r}") from None
    if len(b) != 32:
        raise OutputError(f"{what} is not 32 bytes: {s!r}")
    return b


@dataclass(frozen=True, slots=True)
class Output:
    """A computed output: the L2 block number and timestamp, the v0 output, and where the
    message passer storage root came from (``getProof`` or ``header``)."""

    block_number: int
    timestamp: int
    output: OutputV0
    storage_root_source: str

    @property
    def root(self) -> bytes:
        return self.output.root()


class OutputSource:
    """Computes output roots from the L2 EL (``l2``) and checks them with the rollup node."""

    def __init__(self, l2: RPC, rollup: RPC, isthmus_time: int | None) -> None:
        self.l2 = l2
        self.rollup = rollup
        self.isthmus_time = isthmus_time
        """From the rollup node's ``optimism_rollupConfig`` (``isthmus_time``); ``None``: not
        scheduled."""

    def is_isthmus(self, timestamp: int) -> bool:
        return self.isthmus_time is not None and timestamp >= self.isthmus_time

    async def compute(self, block_number: int) -> Output:
        """The output root of L2 block ``block_number`` from the L2 EL alone."""
        blk = await self.l2.call("eth_getBlockByNumber", [hex(block_number), False])
        if not blk:
            raise OutputError(f"L2 block {block_number} not found on the L2 execution client")
        block_hash = _b32(blk["hash"], "block hash")
        state_root = _b32(blk["stateRoot"], "state root")
        ts = int(str(blk["timestamp"]), 16)
        if self.is_isthmus(ts):
            # [New in Isthmus] the header commits to the message passer storage root.
            wr = blk.get("withdrawalsRoot")
            if wr is None:
                raise OutputError(f"Isthmus block {block_number} has no withdrawalsRoot")
            storage_root, source = _b32(wr, "withdrawalsRoot"), "header"
        else:
            res = await self.l2.call(
                "eth_getProof", ["0x" + L2_TO_L1_MESSAGE_PASSER.hex(), [], "0x" + block_hash.hex()]
            )
            if not isinstance(res, dict):
                raise OutputError(f"eth_getProof at L2 block {block_number} returned {res!r}")
            try:
                proof = account_proof_from_json(res)
                proof.verify(state_root)
            except (ProofError, KeyError, ValueError) as e:
                raise OutputError(f"invalid L2ToL1MessagePasser proof at L2 block "
                                  f"{block_number}: {e}") from None  # fmt: skip
            storage_root, source = proof.storage_hash, "getProof"
        return Output(block_number, ts, OutputV0(state_root, storage_root, block_hash), source)

    async def rollup_output(self, block_number: int) -> dict[str, Any]:
        """The rollup node's ``optimism_outputAtBlock`` answer."""
        res = await self.rollup.call("optimism_outputAtBlock", [hex(block_number)])
        if not isinstance(res, dict):
            raise OutputError(f"optimism_outputAtBlock({block_number}) returned {res!r}")
        return res

    async def checked_output(self, block_number: int) -> tuple[Output, dict[str, Any]]:
        """:meth:`compute`, then the cross-check with the rollup node (module docstring).
        Returns our output and the rollup node's answer (its ``syncStatus`` names the L1 block
        the node is at, which the L2OutputOracle proposal commits to)."""
        ours = await self.compute(block_number)
        theirs = await self.rollup_output(block_number)
        ref = theirs.get("blockRef") or {}
        same = (
            str(theirs.get("outputRoot", "")).lower() == "0x" + ours.root.hex()
            and str(ref.get("hash", "")).lower() == "0x" + ours.output.block_hash.hex()
            and int(ref.get("number", -1)) == block_number
        )
        if not same:
            raise OutputMismatchError(block_number, ours, theirs)
        return ours, theirs
