"""The proposer's two L1 contracts: the calls it reads and the calldata it sends.

Function signatures from contracts-bedrock (``src/L1/L2OutputOracle.sol`` 1.8.0,
``src/dispute/DisputeGameFactory.sol`` 1.0.0, ``src/dispute/interfaces/IDisputeGame.sol``), the
versions the devnet deploys; op-proposer v1.13.7 (L2OutputOracle) and v1.19.6
(DisputeGameFactory, ``op-proposer/contracts/disputegamefactory.go``) call the same functions.
Encoding per the Solidity ABI specification, with ``eth_abi`` (no contract artifacts needed).

Before proposing anything, :func:`check_l2_output_oracle` / :func:`check_dispute_game_factory`
make sure the address holds the expected contract, so that a wrong ``--l2oo-address`` or
``--game-factory-address`` is a clear start-up error rather than a stream of reverts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak

from pyop.primitives import PyopError


class RPC(Protocol):
    async def call(self, method: str, params: Any = ()) -> Any: ...


class ContractError(PyopError):
    """The address does not hold the expected contract, or a call failed."""


@dataclass(frozen=True, slots=True)
class Fn:
    """One contract function: signature and output types."""

    signature: str
    outputs: tuple[str, ...] = ()

    @property
    def selector(self) -> bytes:
        return bytes(keccak(self.signature.encode()))[:4]

    def encode(self, *args: Any) -> bytes:
        inputs = self.signature[self.signature.index("(") + 1 : -1]
        types = _split_types(inputs)
        return self.selector + (abi_encode(types, list(args)) if types else b"")

    def decode(self, data: bytes) -> tuple[Any, ...]:
        try:
            return tuple(abi_decode(list(self.outputs), data))
        except Exception as e:  # eth_abi raises several unrelated exception types
            raise ContractError(f"cannot decode the result of {self.signature}: {e}") from None


def _split_types(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


# --- L2OutputOracle ---------------------------------------------------------------------------
L2OO_VERSION = Fn("version()", ("string",))
L2OO_NEXT_BLOCK_NUMBER = Fn("nextBlockNumber()", ("uint256",))
L2OO_LATEST_BLOCK_NUMBER = Fn("latestBlockNumber()", ("uint256",))
L2OO_LATEST_OUTPUT_INDEX = Fn("latestOutputIndex()", ("uint256",))
L2OO_SUBMISSION_INTERVAL = Fn("SUBMISSION_INTERVAL()", ("uint256",))
L2OO_PROPOSER = Fn("proposer()", ("address",))
L2OO_GET_L2_OUTPUT = Fn("getL2Output(uint256)", ("(bytes32,uint128,uint128)",))
L2OO_PROPOSE = Fn("proposeL2Output(bytes32,uint256,bytes32,uint256)")

# --- DisputeGameFactory and its games --------------------------------------------------------
DGF_VERSION = Fn("version()", ("string",))
DGF_GAME_COUNT = Fn("gameCount()", ("uint256",))
DGF_GAME_AT_INDEX = Fn("gameAtIndex(uint256)", ("uint32", "uint64", "address"))
DGF_INIT_BONDS = Fn("initBonds(uint32)", ("uint256",))
DGF_GAME_IMPLS = Fn("gameImpls(uint32)", ("address",))
DGF_GAMES = Fn("games(uint32,bytes32,bytes)", ("address", "uint64"))
DGF_CREATE = Fn("create(uint32,bytes32,bytes)", ("address",))
GAME_CREATOR = Fn("gameCreator()", ("address",))
GAME_ROOT_CLAIM = Fn("rootClaim()", ("bytes32",))
GAME_EXTRA_DATA = Fn("extraData()", ("bytes",))


async def call(rpc: RPC, to: str, fn: Fn, *args: Any, block: str = "latest") -> tuple[Any, ...]:
    """``eth_call`` of ``fn(args)`` at ``block``; :class:`ContractError` on a revert."""
    try:
        out = await rpc.call("eth_call", [{"to": to, "data": "0x" + fn.encode(*args).hex()}, block])
    except PyopError as e:
        raise ContractError(f"{fn.signature} on {to} failed: {e}") from None
    return fn.decode(bytes.fromhex(str(out).removeprefix("0x")))


async def require_code(rpc: RPC, address: str, what: str) -> None:
    code = await rpc.call("eth_getCode", [address, "latest"])
    if not code or str(code) in ("0x", "0x0"):
        raise ContractError(f"no contract at {what} {address} on L1 (wrong address or wrong L1?)")


async def check_l2_output_oracle(rpc: RPC, address: str) -> dict[str, Any]:
    """Read ``version``, ``SUBMISSION_INTERVAL``, ``nextBlockNumber`` and ``proposer``; a clear
    :class:`ContractError` if the address holds no L2OutputOracle."""
    await require_code(rpc, address, "--l2oo-address")
    try:
        (version,) = await call(rpc, address, L2OO_VERSION)
        (interval,) = await call(rpc, address, L2OO_SUBMISSION_INTERVAL)
        (nxt,) = await call(rpc, address, L2OO_NEXT_BLOCK_NUMBER)
        (proposer,) = await call(rpc, address, L2OO_PROPOSER)
    except ContractError as e:
        raise ContractError(f"--l2oo-address {address} is not an L2OutputOracle ({e})") from None
    return {"version": version, "submissionInterval": int(interval), "nextBlockNumber": int(nxt),
            "proposer": str(proposer)}  # fmt: skip


async def check_dispute_game_factory(rpc: RPC, address: str, game_type: int) -> dict[str, Any]:
    """Read ``version``, ``gameImpls(gameType)`` and ``initBonds(gameType)``; a clear
    :class:`ContractError` if the address holds no DisputeGameFactory or the factory has no
    implementation for the game type."""
    await require_code(rpc, address, "--game-factory-address")
    try:
        (version,) = await call(rpc, address, DGF_VERSION)
        (count,) = await call(rpc, address, DGF_GAME_COUNT)
        (impl,) = await call(rpc, address, DGF_GAME_IMPLS, game_type)
        (bond,) = await call(rpc, address, DGF_INIT_BONDS, game_type)
    except ContractError as e:
        raise ContractError(f"--game-factory-address {address} is not a DisputeGameFactory "
                            f"({e})") from None  # fmt: skip
    if int(str(impl), 16) == 0:
        raise ContractError(f"the DisputeGameFactory at {address} has no implementation for "
                            f"--game-type {game_type}")  # fmt: skip
    return {"version": version, "gameCount": int(count), "implementation": str(impl),
            "initBond": int(bond)}  # fmt: skip


def propose_l2_output_calldata(root: bytes, l2_block: int, l1_hash: bytes, l1_number: int) -> bytes:
    """``proposeL2Output(outputRoot, l2BlockNumber, l1BlockHash, l1BlockNumber)``."""
    return L2OO_PROPOSE.encode(root, l2_block, l1_hash, l1_number)


def game_extra_data(l2_block: int) -> bytes:
    """The output-root game's ``extraData``: the L2 block number as a uint256 (op-proposer
    ``Proposal.ExtraData``; ``FaultDisputeGame.l2BlockNumber`` reads it back)."""
    return l2_block.to_bytes(32, "big")


def create_game_calldata(game_type: int, root: bytes, l2_block: int) -> bytes:
    """``DisputeGameFactory.create(gameType, rootClaim, extraData)``."""
    return DGF_CREATE.encode(game_type, root, game_extra_data(l2_block))


@dataclass(frozen=True, slots=True)
class GameInfo:
    index: int
    game_type: int
    timestamp: int
    address: str


async def game_at_index(rpc: RPC, factory: str, index: int) -> GameInfo:
    gtype, ts, addr = await call(rpc, factory, DGF_GAME_AT_INDEX, index)
    return GameInfo(index, int(gtype), int(ts), str(addr))


async def has_proposed_since(
    rpc: RPC, factory: str, proposer: str, cutoff: int, game_type: int
) -> tuple[bool, int, bytes]:
    """op-proposer v1.19.6 ``DisputeGameFactory.HasProposedSince``: walk the factory's games
    from the newest back to ``cutoff`` (unix seconds) looking for one of ``game_type`` created by
    ``proposer``. Returns (found, its timestamp, its root claim)."""
    (count,) = await call(rpc, factory, DGF_GAME_COUNT)
    for idx in range(int(count) - 1, -1, -1):
        g = await game_at_index(rpc, factory, idx)
        if g.timestamp < cutoff:
            break
        if g.game_type != game_type:
            continue
        (creator,) = await call(rpc, g.address, GAME_CREATOR)
        if str(creator).lower() == proposer.lower():
            (claim,) = await call(rpc, g.address, GAME_ROOT_CLAIM)
            return True, g.timestamp, bytes(claim)
    return False, 0, b""


async def game_exists(rpc: RPC, factory: str, game_type: int, root: bytes, l2_block: int) -> bool:
    """Whether the factory already holds the game (gameType, root, extraData) (``create`` would
    revert with ``GameAlreadyExists``)."""
    proxy, _ts = await call(rpc, factory, DGF_GAMES, game_type, root, game_extra_data(l2_block))
    return int(str(proxy), 16) != 0
