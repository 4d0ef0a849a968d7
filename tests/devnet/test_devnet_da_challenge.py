"""The DA manager against the real ``DataAvailabilityChallenge`` contract on anvil.

A keccak alt-DA chain on a real L1: the contract (contracts-bedrock 0.17.3 artifact, behind a
``Proxy``) with challenge window 6 and resolve window 4; two batcher transactions carry keccak
commitments; both are challenged; the first is resolved on L1 with its input, the second never
is. pyop's alt-DA data sources read these real blocks, receipts and transactions, as op-node's
``AltDADataSource`` + ``damgr`` do (specs/experimental/alt-da.md "Derivation"):

- the first input is missing on the DA server, so derivation waits (looking ahead for
  challenges) until the resolve transaction appears, then takes the input from its calldata;
- the second input is on the DA server and is used, until its challenge expires unresolved:
  the source asks for a reset, and re-derivation skips that input;
- the statuses pyop tracked equal the contract's own ``getChallengeStatus``.

Needs only anvil and the contract artifacts (``npm install``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from pyop.config import AltDAConfig
from pyop.derivation.data_source import DataSourceFactory
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import EndOfSource, NotEnoughData, ResetError
from pyop.devnet.anvil import AnvilError, anvil_binary, start_anvil
from pyop.devnet.artifacts import forge_artifacts_dir
from pyop.devnet.da_challenge import DAChallengeClient
from pyop.devnet.keys import dev_keys
from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient
from pyop.primitives import from_hex, hex_to_int
from pyop.protocol.altda import ChallengeStatus, Commitment
from pyop.sources.l1 import L1RPCSource
from pyop.sources.memory import MemoryAltDASource
from tests.derivation.harness import make_config

pytestmark = pytest.mark.slow

CW, RW = 6, 4
BOND = 10**16
INBOX = "0xff00000000000000000000000000000000000901"


def _require_node_modules() -> None:
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"{e} (this test needs `npm install` (or `make deps`))")
    if not (forge_artifacts_dir() / "DataAvailabilityChallenge.sol" / "DataAvailabilityChallenge.json").is_file():
        pytest.skip("contracts-bedrock forge artifacts missing: run `npm install` (or `make deps`)")


@pytest.fixture(scope="module")
def rpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RpcClient]:
    _require_node_modules()
    tmp = tmp_path_factory.mktemp("da-challenge")
    registry = PidRegistry(tmp)
    try:
        anvil = start_anvil(tmp, block_time=None, registry=registry)  # automine: one block per tx
        yield RpcClient(anvil.rpc_url, timeout=10.0)
    finally:
        registry.stop_all(sigint_timeout=5.0)
        assert PidRegistry(Path(tmp)).entries() == []


def _head(rpc: RpcClient) -> int:
    return hex_to_int(rpc.call("eth_blockNumber"))


def test_challenged_commitments_resolve_from_l1_calldata_and_expire(rpc: RpcClient) -> None:
    keys = dev_keys()
    dac = DAChallengeClient(rpc, keys.admin.private_key_hex)
    address = dac.deploy(challenge_window=CW, resolve_window=RW, bond_size=BOND)
    batcher = DAChallengeClient(rpc, keys.batcher.private_key_hex, address)
    d1, d2 = b"\x00" + b"frames resolved on L1" * 20, b"\x00frames on the DA server only"
    c1, c2 = Commitment.keccak256(d1), Commitment.keccak256(d2)
    base = _head(rpc)
    b1 = batcher.send(INBOX, c1.tx_data(), gas=100_000).block_number
    b2 = batcher.send(INBOX, c2.tx_data(), gas=100_000).block_number
    ch1 = dac.challenge(b1, c1.encode(), bond=BOND).block_number
    ch2 = dac.challenge(b2, c2.encode(), bond=BOND).block_number
    r1 = dac.resolve(b1, c1.encode(), d1).block_number
    assert (b1, b2, ch1, ch2, r1) == tuple(range(base + 1, base + 6))
    rpc.call("anvil_mine", hex(ch2 + RW + 2 - _head(rpc)))
    assert dac.status(b1, c1.encode()) == ChallengeStatus.RESOLVED
    assert dac.status(b2, c2.encode()) == ChallengeStatus.EXPIRED
    head = _head(rpc)

    cfg = make_config(alt_da=True)
    assert cfg.alt_da is not None
    cfg = dataclasses.replace(
        cfg, l1_chain_id=hex_to_int(rpc.call("eth_chainId")), batch_inbox_address=from_hex(INBOX),
        alt_da=AltDAConfig("KeccakCommitment", CW, RW, from_hex(address)),
    )  # fmt: skip
    store = MemoryAltDASource()
    store.put(c2.encode(), d2)  # d1 is only on L1, in the resolve calldata
    l1 = L1RPCSource.connect(rpc.url)
    ex = Explainer()
    try:
        factory = DataSourceFactory(cfg, l1, ex, altda=store)
        mgr = factory.altda_manager
        assert mgr is not None
        batcher_addr = from_hex(Account.from_key(keys.batcher.private_key_hex).address)
        refs = {n: l1.l1_block_ref_by_number(n) for n in range(base, head + 1)}

        def derive(upto: int, out: list[tuple[int, bytes]]) -> int:
            """Read every block from base + 1 as the pipeline does, appending the data to
            ``out``; returns how many times the source asked to wait (NotEnoughData)."""
            waits = 0
            for n in range(base + 1, upto + 1):
                src = factory.open_data(refs[n], batcher_addr)
                while True:
                    try:
                        out.append((n, src.next()))
                    except NotEnoughData:
                        waits += 1
                        assert waits < 50
                    except EndOfSource:
                        break
            return waits

        factory.reset(refs[base])
        first: list[tuple[int, bytes]] = []
        with pytest.raises(ResetError, match="expired"):
            derive(head, first)
        # before the reset: d1 came from the resolve calldata after waiting (looking ahead
        # block by block up to the resolving block), d2 from the DA server
        assert first == [(b1, d1), (b2, d2)]
        assert mgr.challenge_origin.number >= r1
        assert mgr.state.challenge_status(c1, b1) is ChallengeStatus.RESOLVED
        assert mgr.state.challenge_status(c2, b2) is ChallengeStatus.EXPIRED
        assert mgr.resetting
        factory.reset(refs[base])  # the pipeline reset that follows
        got: list[tuple[int, bytes]] = []
        assert derive(head, got) == 0  # the challenges are known: no waiting
        assert got == [(b1, d1)]  # c1 resolved from L1, c2 skipped
        assert [d.reason for d in ex.drops] == [DropReason.ALTDA_CHALLENGE_EXPIRED]
        assert [store_req[0] for store_req in store.requests].count(c2.encode()) == 1
        # L1 finality past both windows finalizes up to the last commitment's block
        assert mgr.finalize(refs[head]) == refs[b1]
    finally:
        l1.close()
