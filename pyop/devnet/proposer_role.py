"""Which proposer a devnet runs, and its command line (``pyop devnet up --proposer go|pyop``).

- ``go`` on an L2OutputOracle devnet: the newest cached op-proposer with ``--l2oo-address``
  (v1.13.7, :func:`pyop.devnet.stack.op_proposer_argv`).
- ``go`` on a ``--fault-proofs`` devnet: the newest cached op-proposer (v1.19.6) in
  DisputeGameFactory mode (:func:`go_dgf_proposer_argv`).
- ``pyop``: ``python -m pyop.cli proposer`` with the same flags (op-proposer's names), plus
  ``--l2-eth-rpc`` (pyop computes output roots from the L2 EL) and its metrics on.

Both post with the proposer TEST key, every ``--poll-interval=2s``, safe blocks
(``--allow-non-finalized``; the devnet's L1 finalizes slowly), one confirmation; dispute games
every :data:`DEVNET_PROPOSAL_INTERVAL` of the respected game type.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyop.devnet.stack import DevnetInfo

HOST = "127.0.0.1"

PROPOSER_KINDS = ("go", "pyop")
DEVNET_PROPOSAL_INTERVAL = "12s"
"""How often a fault-proof devnet's proposer creates a game: short, so a withdrawal is provable
within seconds of its block becoming safe."""


def _common(info: DevnetInfo, *, rpc_port: int) -> list[str]:
    return [
        f"--l1-eth-rpc={info.l1_url}",
        f"--rollup-rpc={info.rollup_rpc_url}",
        f"--private-key={info.key('proposer').removeprefix('0x')}",
        "--poll-interval=2s",
        "--allow-non-finalized=true",
        "--num-confirmations=1",
        "--txmgr.receipt-query-interval=1s",
        f"--rpc.addr={HOST}",
        f"--rpc.port={rpc_port}",
        "--rpc.enable-admin",
        "--log.level=info",
    ]


def _contract_flags(info: DevnetInfo) -> list[str]:
    if info.fault_proofs is not None:
        game_type = int(info.fault_proofs["config"]["respectedGameType"])
        return [
            f"--game-factory-address={info.addresses['DisputeGameFactoryProxy']}",
            f"--game-type={game_type}",
            f"--proposal-interval={DEVNET_PROPOSAL_INTERVAL}",
        ]
    return [f"--l2oo-address={info.addresses['L2OutputOracleProxy']}"]


def go_dgf_proposer_argv(binary: Path, info: DevnetInfo, *, rpc_port: int) -> list[str]:
    """op-proposer v1.19.6 in DisputeGameFactory mode."""
    return [str(binary), *_common(info, rpc_port=rpc_port), *_contract_flags(info),
            "--metrics.enabled=false"]  # fmt: skip


def pyop_proposer_argv(
    info: DevnetInfo,
    *,
    rpc_port: int,
    metrics_port: int | None = None,
    l2oo_address: str | None = None,
    key: str | None = None,
    python: str = sys.executable,
) -> list[str]:
    """``pyop proposer`` for the devnet (module docstring); ``l2oo_address`` / ``key`` override
    the devnet's oracle and proposer key (a second proposer on the same chain)."""
    argv = [python, "-m", "pyop.cli", "proposer", *_common(info, rpc_port=rpc_port),
            f"--l2-eth-rpc={info.l2_rpc_url}"]  # fmt: skip
    if l2oo_address is not None:
        argv.append(f"--l2oo-address={l2oo_address}")
    else:
        argv += _contract_flags(info)
    if key is not None:
        argv.append(f"--private-key={key.removeprefix('0x')}")
    if metrics_port is not None:
        argv += ["--metrics.enabled", "--metrics.addr=127.0.0.1", f"--metrics.port={metrics_port}"]
    return argv
