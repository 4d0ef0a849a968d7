"""The devnet's stand-in for op-challenger's resolution duty: resolve unchallenged dispute games
once their clock has run out.

On a fault-proof chain a game's root claim (the proposer's output root) only counts for
withdrawals after the game resolved ``DEFENDER_WINS`` (``OptimismPortal2.checkWithdrawal``).
Resolution is permissionless and happens in two steps (contracts-bedrock 0.17.3
``FaultDisputeGame``): ``resolveClaim(i, 0)`` for every claim, deepest first, each allowed only
once the would-be counter's chess clock reached ``maxClockDuration`` (``ClockNotExpired``
before), then ``resolve()``, which sets ``status`` and ``resolvedAt``. op-challenger does this
for every game it watches (its ``--selective-claim-resolution`` flag in the seed limits it to
its own claims). This devnet has no op-challenger (no Cannon trace to play), so
``pyop devnet up`` on a ``--fault-proofs`` devnet runs this resolver beside the stack, with the
challenger TEST key. It never attacks or defends: every game here is unchallenged.

Each poll ``eth_call``-simulates the next resolution step before sending it, so it neither reads
the clock itself nor sends a transaction that would revert.

L1 reorgs (anvil ``anvil_reorg`` in the tests, or a real L1): a reorg can take games out of the
factory (``gameCount`` goes down, the clone has no code any more) or put a different game at an
index the resolver already knows. Each poll therefore re-reads ``gameAtIndex`` for every game it
still holds open, forgets those past the new ``gameCount``, and treats a game whose calls come
back empty as gone (it is read again from the factory next poll). A reorged-away game is logged,
never fatal.

Run: ``python -m pyop.devnet.game_resolver --l1 URL --game-factory-address ADDR
--private-key HEX [--poll-interval SECONDS]``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account import Account

from pyop.devnet.artifacts import Artifact, ArtifactError, load_artifact
from pyop.devnet.keys import DevKey
from pyop.devnet.l1_deploy import DeployConfig, DeployError, _Sender, eth_call
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import PyopError, hex_to_int, to_hex

GAME_STATUS = {0: "IN_PROGRESS", 1: "CHALLENGER_WINS", 2: "DEFENDER_WINS"}
"""``GameStatus`` (contracts-bedrock ``src/dispute/lib/Types.sol``)."""


@dataclass
class GameResolver:
    """Resolves every game of the factory whose clock ran out (see the module docstring)."""

    rpc: RpcClient
    factory: str
    key: DevKey
    log: Callable[[str], None] = print
    next_index: int = 0
    open_games: dict[int, str] = field(default_factory=dict)
    """index -> game address of games still ``IN_PROGRESS``."""
    resolved: dict[int, str] = field(default_factory=dict)

    def _simulate(self, to: str, data: bytes) -> bool:
        try:
            self.rpc.call("eth_call", {"from": self.key.address, "to": to, "data": to_hex(data)},
                          "latest")  # fmt: skip
            return True
        except RpcError:
            return False

    def _send(self, label: str, to: str, data: bytes) -> None:
        chain_id = hex_to_int(self.rpc.call("eth_chainId"))
        s = _Sender(self.rpc, self.key, chain_id, DeployConfig())
        s.call(label, to, data, gas=1_000_000)
        s.wait(60.0)

    def _code(self, addr: str) -> bool:
        return str(self.rpc.call("eth_getCode", addr, "latest")) not in ("0x", "")

    def _sync_with_factory(self) -> None:
        """Pick up new games, and follow an L1 reorg that removed or replaced known ones."""
        dgf = load_artifact("DisputeGameFactory")
        (count,) = eth_call(self.rpc, self.factory, dgf, "gameCount")
        count = int(count)
        if count < self.next_index:
            for i in [i for i in self.open_games if i >= count]:
                self.log(f"game {i} at {self.open_games.pop(i)} is gone from the factory "
                         f"(gameCount {self.next_index} -> {count}: an L1 reorg)")  # fmt: skip
            for i in [i for i in self.resolved if i >= count]:
                del self.resolved[i]
            self.next_index = count
        for i, addr in list(self.open_games.items()):  # an index may name another game now
            (_gtype, _ts, proxy) = eth_call(self.rpc, self.factory, dgf, "gameAtIndex", i)
            if str(proxy).lower() != addr.lower():
                self.log(f"game {i} is now at {proxy} (was {addr}: an L1 reorg)")
                self.open_games[i] = str(proxy)
        for i in range(self.next_index, count):
            (_gtype, _ts, proxy) = eth_call(self.rpc, self.factory, dgf, "gameAtIndex", i)
            self.open_games[i] = str(proxy)
        self.next_index = count

    def poll(self) -> list[int]:
        """One round: pick up new games, resolve those whose clocks ran out. Returns the indices
        resolved in this round."""
        game = load_artifact("FaultDisputeGame")
        self._sync_with_factory()
        done: list[int] = []
        for i, addr in sorted(self.open_games.items()):
            try:
                if self._resolve(i, addr, game):
                    done.append(i)
            except ArtifactError as e:
                if self._code(addr):
                    raise
                # reorged away between reading the factory and calling the game: read it
                # again from the factory next poll
                self.log(f"game {i} at {addr} has no code (an L1 reorg?): {e}")
                del self.open_games[i]
                self.next_index = min(self.next_index, i)
        return done

    def _resolve(self, i: int, addr: str, game: Artifact) -> bool:
        """The next resolution steps of game ``i`` whose clocks ran out; True once resolved."""
        (status,) = eth_call(self.rpc, addr, game, "status")
        if int(status) != 0:
            self.resolved[i] = GAME_STATUS.get(int(status), str(status))
            del self.open_games[i]
            return False
        (n_claims,) = eth_call(self.rpc, addr, game, "claimDataLen")
        for c in reversed(range(int(n_claims))):
            (already,) = eth_call(self.rpc, addr, game, "resolvedSubgames", c)
            if already:
                continue
            data = game.encode_call("resolveClaim", c, 0)
            if not self._simulate(addr, data):
                break  # clock still running (or a deeper claim first)
            self._send(f"game {i} resolveClaim({c})", addr, data)
        data = game.encode_call("resolve")
        if not self._simulate(addr, data):
            return False
        self._send(f"game {i} resolve()", addr, data)
        (status,) = eth_call(self.rpc, addr, game, "status")
        self.resolved[i] = GAME_STATUS.get(int(status), str(status))
        self.log(f"game {i} at {addr} resolved: {self.resolved[i]}")
        del self.open_games[i]
        return True


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pyop.devnet.game_resolver",
                                description=__doc__.split("\n\n")[0])  # fmt: skip
    p.add_argument("--l1", required=True, metavar="URL")
    p.add_argument("--game-factory-address", required=True, metavar="ADDR")
    p.add_argument("--private-key", required=True, metavar="HEX")
    p.add_argument("--poll-interval", type=float, default=2.0, metavar="SECONDS")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    key_bytes = bytes.fromhex(args.private_key.removeprefix("0x"))
    key = DevKey("challenger", -1, str(Account.from_key(key_bytes).address), key_bytes)

    def log(msg: str) -> None:
        print(f"t={time.strftime('%Y-%m-%dT%H:%M:%S')} lvl=info msg={msg!r}", flush=True)

    def _term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a process started from a background shell job inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler (the devnet's stop would wait for SIGTERM)
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    r = GameResolver(RpcClient(args.l1, timeout=10.0), args.game_factory_address, key, log=log)
    log(f"resolving games of factory {args.game_factory_address} as {key.address}")
    try:
        while True:
            try:
                r.poll()
            except (RpcError, RpcTransportError, DeployError) as e:
                log(f"poll failed, retrying: {e}")
            time.sleep(args.poll_interval)
    except KeyboardInterrupt:
        return 0
    except PyopError as e:
        print(f"game resolver: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
