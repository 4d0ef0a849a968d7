"""The rollup node's JSON-RPC methods, with op-node's names, parameters, results and errors
(op-node ``op-node/node/api.go``; result types ``op-service/eth/output.go`` ``OutputResponse``
and ``SafeHeadResponse``, ``sync_status.go`` ``SyncStatus``, ``id.go`` ``BlockID`` /
``L1BlockRef`` / ``L2BlockRef``; specs/protocol/rollup-node.md "Output RPC method").

``optimism_*`` are always served; ``admin_*`` only with ``--rpc.enable-admin`` (otherwise they
are "method not found", as when op-node does not register the admin namespace):
``admin_resetDerivationPipeline``, ``admin_startSequencer``, ``admin_stopSequencer``,
``admin_sequencerActive``, ``admin_setRecoverMode(bool)`` (op-node ``Driver.SetRecoverMode``; a
no-op without a sequencer, as op-node's ``DisabledSequencer``), ``admin_setLogLevel(level)``
(op-service ``CommonAdminAPI.SetLogLevel``) and ``admin_postUnsafePayload(envelope)`` (op-node
``adminAPI.PostUnsafePayload``: the block hash is recomputed from the payload and must match,
then the payload joins the unsafe-payload queue; used by op-conductor).

Output root (specs/protocol/proposals.md "L2 Output Commitment Construction"): version 0 over
the block's state root, the ``L2ToL1MessagePasser`` storage root and the block hash. The storage
root comes from ``eth_getProof(0x4200..0016, [], blockHash)``, whose account proof is checked
against the block's state root (op-node ``OutputV0AtBlock`` + ``AccountResult.Verify``); from
Isthmus the header's ``withdrawalsRoot`` is that storage root
(specs/protocol/isthmus/exec-engine.md "L2ToL1MessagePasser Storage Root in Header").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak

from pyop import __version__
from pyop.config import RollupConfig
from pyop.engine.client import EngineClient, parse_execution_payload
from pyop.engine.l2_reader import L2Reader
from pyop.engine.payload_hash import payload_block_hash
from pyop.engine.sequencer import SequencerError, SequencerNotEnabled
from pyop.node.driver import Driver
from pyop.node.logs import set_level
from pyop.node.safedb import DisabledSafeDB, SafeDB, SafeDBError
from pyop.node.superroot import (
    super_root_v1,
    target_block_number,
)
from pyop.primitives import (
    ZERO_HASH,
    BlockID,
    ExecutionPayload,
    HexError,
    PyopError,
    from_hex,
    to_hex,
)
from pyop.protocol.output_root import OUTPUT_VERSION_V0, output_root
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from pyop.sources.interfaces import NotFound

# JSON-RPC 2.0 / go-ethereum rpc error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # go-ethereum: errors returned by a method

VERSION = f"v{__version__}-pyop"


class RPCMethodError(PyopError):
    """An error answered to a JSON-RPC call (``code``, ``message``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProofError(PyopError):
    """An ``eth_getProof`` answer that does not verify."""


def method_not_found(name: str) -> RPCMethodError:
    """go-ethereum's message for an unknown method."""
    return RPCMethodError(METHOD_NOT_FOUND, f"the method {name} does not exist/is not available")


def parse_uint64(params: Sequence[object], i: int) -> int:
    """A ``hexutil.Uint64`` argument (``"0x..."``, no leading zeros), as go-ethereum checks it."""
    if len(params) <= i:
        raise RPCMethodError(INVALID_PARAMS, f"missing value for required argument {i}")
    v = params[i]
    if not isinstance(v, str):
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: json: cannot unmarshal "
                                             f"non-string into Go value of type hexutil.Uint64")  # fmt: skip
    if not v.startswith(("0x", "0X")):
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: hex string without 0x prefix")
    digits = v[2:]
    if not digits:
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: hex string \"0x\"")
    if len(digits) > 1 and digits[0] == "0":
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: hex number with leading zero digits")
    try:
        n = int(digits, 16)
    except ValueError:
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: invalid hex string") from None
    if n >= 1 << 64:
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: hex number > 64 bits")
    return n


def parse_hash(params: Sequence[object], i: int) -> bytes:
    if len(params) <= i:
        raise RPCMethodError(INVALID_PARAMS, f"missing value for required argument {i}")
    v = params[i]
    if not isinstance(v, str):
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: expected a hash string")
    try:
        return from_hex(v, length=32, what="hash")
    except HexError as e:
        raise RPCMethodError(INVALID_PARAMS, f"invalid argument {i}: {e}") from None


def _nibbles(b: bytes) -> list[int]:
    out: list[int] = []
    for x in b:
        out += [x >> 4, x & 0x0F]
    return out


def verify_account_proof(state_root: bytes, address: bytes, proof: Sequence[bytes]) -> list[bytes]:
    """Walk a Merkle-Patricia account proof (EIP-1186 ``accountProof``) from ``state_root`` to
    the account of ``address``; returns its RLP fields ``[nonce, balance, storageRoot,
    codeHash]``. Raises :class:`ProofError` (yellow paper appendix D: hex-prefix paths,
    branch/extension/leaf nodes, children by keccak hash)."""
    key = _nibbles(keccak(address))
    pos = 0
    expected: object = state_root
    for i, node_rlp in enumerate(proof):
        if isinstance(expected, bytes) and keccak(node_rlp) != expected:
            raise ProofError(f"proof node {i} does not hash to the expected reference")
        try:
            node = rlp.decode(node_rlp)
        except Exception as e:
            raise ProofError(f"proof node {i} is not RLP: {e}") from None
        while True:
            if not isinstance(node, list):
                raise ProofError(f"proof node {i} is not a list")
            if len(node) == 17:
                if pos >= len(key):
                    raise ProofError("proof ends in a branch value")
                child = node[key[pos]]
                pos += 1
                if child in (b"", []):
                    raise ProofError("account not in the state trie")
                if isinstance(child, list):  # embedded node
                    node = child
                    continue
                expected = child
                break
            if len(node) == 2 and isinstance(node[0], bytes):
                enc = _nibbles(node[0])
                flag = enc[0]
                path = enc[2:] if flag in (0, 2) else enc[1:]
                if key[pos:pos + len(path)] != path:
                    raise ProofError("account not in the state trie (path mismatch)")
                pos += len(path)
                if flag in (2, 3):  # leaf
                    if pos != len(key) or not isinstance(node[1], bytes):
                        raise ProofError("leaf does not end the key")
                    acct = rlp.decode(node[1])
                    if not isinstance(acct, list) or len(acct) != 4:
                        raise ProofError("account leaf is not [nonce, balance, storageRoot, codeHash]")
                    return [bytes(x) for x in acct]
                child = node[1]
                if isinstance(child, list):
                    node = child
                    continue
                expected = child
                break
            raise ProofError(f"proof node {i} has {len(node)} items")
    raise ProofError("proof ends before the account leaf")


class RollupAPI:
    """The method table (see the module docstring)."""

    def __init__(
        self,
        cfg: RollupConfig,
        driver: Driver,
        client: EngineClient,
        l2: L2Reader,
        safedb: SafeDB | DisabledSafeDB,
        *,
        admin: bool = False,
        on_call: Callable[[str, float, int | None], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.driver = driver
        self.client = client
        self.l2 = l2
        self.safedb = safedb
        self.admin = admin
        self.on_call = on_call
        self.methods: dict[str, Callable[[list[Any]], Awaitable[object]]] = {
            "optimism_syncStatus": self.sync_status,
            "optimism_outputAtBlock": self.output_at_block,
            "optimism_rollupConfig": self.rollup_config,
            "optimism_version": self.version,
            "optimism_safeHeadAtL1Block": self.safe_head_at_l1_block,
            "health_status": self.health_status,
            "optimism_dependencySet": self.dependency_set,
            "superroot_atTimestamp": self.superroot_at_timestamp,
        }
        if admin:
            self.methods.update({
                "admin_resetDerivationPipeline": self.reset_derivation_pipeline,
                "admin_startSequencer": self.start_sequencer,
                "admin_stopSequencer": self.stop_sequencer,
                "admin_sequencerActive": self.sequencer_active,
                "admin_setRecoverMode": self.set_recover_mode,
                "admin_setLogLevel": self.set_log_level,
                "admin_postUnsafePayload": self.post_unsafe_payload,
                "admin_conductorEnabled": self.conductor_enabled,
                "admin_overrideLeader": self.override_leader,
            })  # fmt: skip

    async def dispatch(self, method: str, params: list[Any]) -> object:
        fn = self.methods.get(method)
        if fn is None:
            raise method_not_found(method)
        t0 = time.perf_counter()
        code: int | None = None
        try:
            return await fn(params)
        except RPCMethodError as e:
            code = e.code
            raise
        except (SequencerError, SafeDBError) as e:
            code = SERVER_ERROR
            raise RPCMethodError(SERVER_ERROR, str(e)) from None
        except PyopError as e:
            code = SERVER_ERROR
            raise RPCMethodError(SERVER_ERROR, f"{type(e).__name__}: {e}") from None
        finally:
            if self.on_call is not None:
                self.on_call(method, time.perf_counter() - t0, code)

    # ------------------------------------------------------------------ optimism_*

    async def sync_status(self, params: list[Any]) -> object:
        return self.driver.sync_status()

    async def health_status(self, params: list[Any]) -> object:
        """op-service ``rpc`` ``healthzAPI.Status``: the version string (every op-service RPC
        server registers the ``health`` namespace)."""
        return VERSION

    async def dependency_set(self, params: list[Any]) -> object:
        """op-node ``nodeAPI.DependencySet`` without an interop dependency set (pyop node runs no
        interop chain: ``--interop.dependency-set`` is refused): ``ethereum.NotFound``."""
        raise RPCMethodError(SERVER_ERROR, "not found")

    async def rollup_config(self, params: list[Any]) -> object:
        return self.cfg.to_json()

    async def version(self, params: list[Any]) -> object:
        return VERSION

    async def safe_head_at_l1_block(self, params: list[Any]) -> object:
        n = parse_uint64(params, 0)
        l1, safe = self.safedb.safe_head_at_l1(n)
        return {"l1Block": l1.to_json(), "safeHead": safe.to_json()}

    async def output_at_block(self, params: list[Any]) -> object:
        n = parse_uint64(params, 0)
        status = self.driver.sync_status()
        try:
            payload = await self.l2.payload_by_number(n)
        except NotFound:
            raise RPCMethodError(SERVER_ERROR, "failed to get L2 block ref with sync status: not found") from None
        ref = await self.l2.ref_by_hash(payload.block_hash)
        if self.cfg.is_isthmus(payload.timestamp) and payload.withdrawals_root is not None:
            storage_root = payload.withdrawals_root  # [New in Isthmus]
        else:
            storage_root = await self._message_passer_storage_root(payload.block_hash, payload.state_root, n)
        root = output_root(payload.state_root, storage_root, payload.block_hash)
        return {
            "version": to_hex(OUTPUT_VERSION_V0),
            "outputRoot": to_hex(root),
            "blockRef": ref.to_json(),
            "withdrawalStorageRoot": to_hex(storage_root),
            "stateRoot": to_hex(payload.state_root),
            "syncStatus": status,
        }

    async def _output_v0(self, n: int) -> tuple[ExecutionPayload, bytes]:
        """The block's payload and its message-passer storage root (op-node ``OutputV0AtBlock``:
        the header's withdrawalsRoot from Isthmus, else the proven storage root)."""
        payload = await self.l2.payload_by_number(n)
        if self.cfg.is_isthmus(payload.timestamp) and payload.withdrawals_root is not None:
            return payload, payload.withdrawals_root  # [New in Isthmus]
        return payload, await self._message_passer_storage_root(payload.block_hash, payload.state_root, n)

    async def superroot_at_timestamp(self, params: list[Any]) -> object:
        """``superroot_atTimestamp`` (:mod:`pyop.node.superroot`; op-node ``superrootAPI``)."""
        ts = parse_uint64(params, 0)
        cfg = self.cfg
        try:
            n = target_block_number(cfg.genesis.l2.number, cfg.genesis.l2_time, cfg.block_time, ts)
        except PyopError as err:
            raise RPCMethodError(SERVER_ERROR, f"target block number for timestamp {ts}: {err}") from None
        e = self.driver.engine
        cur = self.driver.current_l1
        chain_id = str(cfg.l2_chain_id)
        resp: dict[str, object] = {
            "current_l1": BlockID(cur.hash, cur.number).to_json() if cur else BlockID(ZERO_HASH, 0).to_json(),
            "safe_timestamp": e.safe.timestamp,
            "local_safe_timestamp": e.local_safe.timestamp,
            "finalized_timestamp": e.finalized.timestamp,
            "optimistic_at_timestamp": {},
            "chain_ids": [chain_id],
        }  # fmt: skip
        local_safe = e.local_safe.number
        if n > e.unsafe.number or n > local_safe:
            return resp  # beyond the known chain / past local-safe: the chain is omitted
        try:
            payload, storage_root = await self._output_v0(n)
        except NotFound:
            return resp
        root = output_root(payload.state_root, storage_root, payload.block_hash)
        if n == cfg.genesis.l2.number and payload.block_hash == cfg.genesis.l2.hash:
            required = BlockID(ZERO_HASH, 0)
        else:
            try:
                required, _ = self.safedb.l1_at_safe_head(n)
            except SafeDBError as err:
                raise RPCMethodError(SERVER_ERROR, f"l1AtSafeHead@{n}: {err}") from None
        resp["optimistic_at_timestamp"] = {chain_id: {
            "output": {"stateRoot": to_hex(payload.state_root), "messagePasserStorageRoot": to_hex(storage_root),
                       "blockHash": to_hex(payload.block_hash)},
            "output_root": to_hex(root),
            "required_l1": required.to_json(),
        }}  # fmt: skip
        resp["data"] = {
            "verified_required_l1": required.to_json(),
            "super": {"timestamp": hex(ts), "chains": [{"ChainID": chain_id, "Output": to_hex(root)}]},
            "super_root": to_hex(super_root_v1(ts, [(cfg.l2_chain_id, root)])),
        }
        return resp

    async def _message_passer_storage_root(self, block_hash: bytes, state_root: bytes, n: int) -> bytes:
        res = await self.client.call("eth_getProof", [to_hex(L2_TO_L1_MESSAGE_PASSER), [], to_hex(block_hash)])
        what = f"failed to get L2 output at block {n}"
        if not isinstance(res, dict) or not isinstance(res.get("storageHash"), str):
            raise RPCMethodError(SERVER_ERROR, f"{what}: eth_getProof answer has no storageHash")
        try:
            storage_hash = from_hex(res["storageHash"], length=32, what="storageHash")
            proof = [from_hex(x, what="accountProof") for x in res.get("accountProof") or []]
            acct = verify_account_proof(state_root, L2_TO_L1_MESSAGE_PASSER, proof)
        except (HexError, ProofError) as e:
            raise RPCMethodError(SERVER_ERROR, f"{what}: invalid withdrawal root proof: {e}") from None
        if acct[2] != storage_hash:
            raise RPCMethodError(SERVER_ERROR, f"{what}: storageHash does not match the proven account")
        return storage_hash

    # ------------------------------------------------------------------ admin_*

    async def reset_derivation_pipeline(self, params: list[Any]) -> object:
        await self.driver.request_reset("admin_resetDerivationPipeline", stage="admin")
        return None

    async def start_sequencer(self, params: list[Any]) -> object:
        await self.driver.start_sequencer(parse_hash(params, 0))
        return None

    async def stop_sequencer(self, params: list[Any]) -> object:
        return to_hex(await self.driver.stop_sequencer())

    async def sequencer_active(self, params: list[Any]) -> object:
        return self.driver.sequencer_active()

    async def set_recover_mode(self, params: list[Any]) -> object:
        if not params or not isinstance(params[0], bool):
            raise RPCMethodError(INVALID_PARAMS, "invalid argument 0: json: cannot unmarshal into Go value of type bool")
        self.driver.set_recover_mode(params[0])
        return None

    async def conductor_enabled(self, params: list[Any]) -> object:
        """op-node ``adminAPI.ConductorEnabled``: pyop has no op-conductor client (``--conductor.*``
        is refused), so the answer is op-node's without a conductor (``NoOpConductor.Enabled``,
        ``DisabledSequencer.ConductorEnabled``): false."""
        return False

    async def override_leader(self, params: list[Any]) -> object:
        """op-node ``adminAPI.OverrideLeader`` without a conductor: a no-op on a sequencer
        (``NoOpConductor.OverrideLeader``), "sequencer is not enabled" on a verifier
        (``DisabledSequencer.OverrideLeader``)."""
        if self.driver.sequencer is None:
            raise SequencerNotEnabled()
        return None

    async def set_log_level(self, params: list[Any]) -> object:
        if not params or not isinstance(params[0], str):
            raise RPCMethodError(INVALID_PARAMS, "invalid argument 0: json: cannot unmarshal into Go value of type string")
        try:
            set_level(params[0])
        except ValueError as e:
            raise RPCMethodError(SERVER_ERROR, str(e)) from None
        return None

    async def post_unsafe_payload(self, params: list[Any]) -> object:
        if not params or not isinstance(params[0], dict):
            raise RPCMethodError(INVALID_PARAMS, "invalid argument 0: expected an ExecutionPayloadEnvelope object")
        env = params[0]
        try:
            payload = parse_execution_payload(env.get("executionPayload"))
            root_hex = env.get("parentBeaconBlockRoot")
            root = from_hex(root_hex, length=32, what="parentBeaconBlockRoot") if root_hex else None
        except (PyopError, AttributeError) as e:
            raise RPCMethodError(INVALID_PARAMS, f"invalid argument 0: {e}") from None
        actual = payload_block_hash(payload, root)
        if actual != payload.block_hash:
            raise RPCMethodError(SERVER_ERROR, f"payload has bad block hash: {to_hex(payload.block_hash)}, "
                                               f"actual block hash is: {to_hex(actual)}")  # fmt: skip
        self.driver.add_unsafe_payload(payload, root)
        return None
