"""The L1 chain config op-node needs for a devnet L1 (``--rollup.l1-chain-config``).

op-node (v1.19.x ``service.go`` ``NewL1ChainConfig``) knows the chain configs of mainnet, Sepolia
and Holesky; for any other L1 chain id it reads a go-ethereum ``params.ChainConfig`` JSON file
(or a genesis file's ``config``) and refuses one without a ``blobSchedule``. It uses it for the
L1 blob base fee in the L1-info deposit (EIP-4844 ``fake_exponential`` with the fork's
``baseFeeUpdateFraction``; EIP-7691 raised the Prague fraction).

anvil's L1 is a post-merge chain with every fork up to ``--hardfork`` active at genesis, so the
config has every block fork at 0, the time forks at 0, and the EIP-7840 blob schedule values:
Cancun target 3 / max 6 / fraction 3338477, Prague target 6 / max 9 / fraction 5007716.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyop.primitives import PyopError

CANCUN_BLOB_CONFIG = {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477}
"""EIP-4844 blob parameters (EIP-7840 ``blobSchedule.cancun``)."""
PRAGUE_BLOB_CONFIG = {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716}
"""EIP-7691 blob parameters (EIP-7840 ``blobSchedule.prague``)."""

BLOCK_FORKS = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
    "arrowGlacierBlock",
    "grayGlacierBlock",
    "mergeNetsplitBlock",
)
"""The geth ``ChainConfig`` block-numbered forks (through the merge); devnet chains have them
all at block 0 (L1 here and the L2 in :mod:`pyop.devnet.l2_genesis`)."""


class L1ChainConfigError(PyopError):
    """Unsupported L1 hardfork for the devnet L1 chain config."""


def l1_chain_config(chain_id: int, hardfork: str = "prague") -> dict[str, object]:
    """go-ethereum ``params.ChainConfig`` JSON of an L1 that runs ``hardfork`` (``cancun`` or
    ``prague``) from genesis, as anvil does."""
    hf = hardfork.lower()
    if hf not in ("cancun", "prague"):
        raise L1ChainConfigError(f"L1 hardfork {hardfork!r}: only cancun and prague are supported")
    cfg: dict[str, object] = {"chainId": chain_id}
    for k in BLOCK_FORKS:
        cfg[k] = 0
    cfg["shanghaiTime"] = 0
    cfg["cancunTime"] = 0
    schedule: dict[str, object] = {"cancun": dict(CANCUN_BLOB_CONFIG)}
    if hf == "prague":
        cfg["pragueTime"] = 0
        schedule["prague"] = dict(PRAGUE_BLOB_CONFIG)
    cfg["terminalTotalDifficulty"] = 0
    cfg["depositContractAddress"] = "0x0000000000000000000000000000000000000000"
    cfg["blobSchedule"] = schedule
    return cfg


def write_l1_chain_config(path: Path, chain_id: int, hardfork: str = "prague") -> Path:
    """Write :func:`l1_chain_config` to ``path``; return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(l1_chain_config(chain_id, hardfork), indent=2) + "\n")
    return path
