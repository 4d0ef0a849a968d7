"""The fault-proof flavour of the devnet L1: DisputeGameFactory + permissioned dispute game +
OptimismPortal2 (``pyop devnet init --fault-proofs``).

Follows contracts-bedrock's ``scripts/Deploy.s.sol`` with ``useFaultProofs = true`` (the seed's
``getting-started.json`` switch): ``deployDelayedWETH``, ``deployPreimageOracle``,
``deployMips``, ``deployAnchorStateRegistry``, ``setPermissionedCannonFaultGameImplementation``
and ``initializeOptimismPortal2``, with the contracts of ``@eth-optimism/contracts-bedrock``
0.17.3 (OptimismPortal2 3.10.0, FaultDisputeGame 1.2.0, AnchorStateRegistry 1.0.0,
DisputeGameFactory 1.0.0). Every owner, the guardian and the deployer are the admin TEST key.

Two phases, because the anchor state needs the L2 genesis, which needs the L1 deployment:

1. :func:`deploy_fault_proof_contracts` (after :func:`pyop.devnet.l1_deploy.deploy_l1_contracts`
   with ``initialize_portal=False``): DelayedWETH (proxy), PreimageOracle, MIPS,
   AnchorStateRegistry (proxy, not yet initialized), the ``PermissionedDisputeGame``
   implementation registered in the factory for :attr:`FaultProofConfig.game_type` with its
   init bond (plus the permissionless ``FaultDisputeGame`` for CANNON, game type 0, which the
   portal does not respect but anyone may play), and the OptimismPortal proxy upgraded to OptimismPortal2 with that game type
   respected.
2. :func:`initialize_anchor_state` (after the L2 genesis is built): the AnchorStateRegistry's
   starting anchor for the game type is the L2 genesis output root at block 0 (the seed's
   ``faultGameGenesisOutputRoot``, there read from ``optimism_outputAtBlock 0``; here computed
   from the genesis state root, the L2ToL1MessagePasser storage root and the block hash,
   specs/protocol/proposals.md "L2 Output Commitment Construction").

Short clocks so that a withdrawal finalizes within a minute or two (defaults below): a game's
root claim can be resolved ``max_clock_duration`` seconds after the game was created
(``FaultDisputeGame.resolveClaim``: ``ClockNotExpired`` before); the portal then waits
``dispute_game_finality_delay`` seconds after ``resolvedAt`` and ``proof_maturity_delay`` seconds
after the proof (``OptimismPortal2.checkWithdrawal``).

Nobody plays these games: the absolute prestate is a placeholder (no Cannon/op-program build
exists here), and in a permissioned game only the proposer and the challenger may move. Resolving
unchallenged games after their clock, which op-challenger does on a real chain, is done by the
devnet: :mod:`pyop.devnet.game_resolver` runs beside the stack (``pyop devnet up`` on a
fault-proof devnet) with the challenger TEST key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.keys import DevKeys
from pyop.devnet.l1_deploy import DeployConfig, DeployError, Deployment, _Sender, eth_call
from pyop.devnet.rpc import RpcClient
from pyop.primitives import to_hex

GAME_TYPE_CANNON = 0
GAME_TYPE_PERMISSIONED_CANNON = 1
"""``GameTypes.PERMISSIONED_CANNON`` (contracts-bedrock ``src/dispute/lib/Types.sol``)."""

PLACEHOLDER_ABSOLUTE_PRESTATE = bytes([3]) + keccak(b"pyop devnet: no fault proof program")[1:]
"""The game's ``ABSOLUTE_PRESTATE`` claim. On a real chain it is the hash of the op-program
Cannon prestate (first byte the VM status, 3 = unfinished). Nothing executes a trace on this
devnet, so any value with that shape does; this one says what it is."""

ETHER = 10**18


class FaultProofError(DeployError):
    """The fault-proof contracts cannot be deployed or initialized."""


@dataclass(frozen=True, slots=True)
class FaultProofConfig:
    """Parameters of the fault-proof contracts (deploy-config names in :meth:`to_json`)."""

    game_type: int = GAME_TYPE_PERMISSIONED_CANNON
    max_game_depth: int = 73
    """``faultGameMaxDepth`` of the OP devnet and mainnet configs."""
    split_depth: int = 30
    """``faultGameSplitDepth``: output bisection above it, execution trace below."""
    max_clock_duration: int = 20
    """``faultGameMaxClockDuration`` (mainnet 3.5 days): seconds until an unchallenged root
    claim can be resolved."""
    clock_extension: int = 5
    """``faultGameClockExtension`` (mainnet 3 hours); must not exceed the max clock."""
    init_bond: int = ETHER // 100
    """``DisputeGameFactory.initBonds(gameType)``: what the proposer pays per game (0.01 ETH,
    returned to it after resolution through DelayedWETH)."""
    proof_maturity_delay: int = 6
    """``proofMaturityDelaySeconds`` (mainnet 7 days)."""
    dispute_game_finality_delay: int = 6
    """``disputeGameFinalityDelaySeconds`` (mainnet 3.5 days)."""
    delayed_weth_delay: int = 6
    """``faultGameWithdrawalDelay``: DelayedWETH's unlock delay for bonds."""
    preimage_min_proposal_size: int = 10_000
    preimage_challenge_period: int = 120
    absolute_prestate: bytes = PLACEHOLDER_ABSOLUTE_PRESTATE

    def check(self) -> None:
        if self.split_depth >= self.max_game_depth:
            raise FaultProofError("split depth must be below the max game depth")
        if self.clock_extension > self.max_clock_duration:
            raise FaultProofError("the clock extension may not exceed the max clock duration")
        if len(self.absolute_prestate) != 32:
            raise FaultProofError("the absolute prestate is a 32-byte claim")

    def to_json(self) -> dict[str, Any]:
        return {
            "respectedGameType": self.game_type,
            "faultGameMaxDepth": self.max_game_depth,
            "faultGameSplitDepth": self.split_depth,
            "faultGameMaxClockDuration": self.max_clock_duration,
            "faultGameClockExtension": self.clock_extension,
            "faultGameInitBond": str(self.init_bond),
            "faultGameAbsolutePrestate": to_hex(self.absolute_prestate),
            "proofMaturityDelaySeconds": self.proof_maturity_delay,
            "disputeGameFinalityDelaySeconds": self.dispute_game_finality_delay,
            "faultGameWithdrawalDelay": self.delayed_weth_delay,
            "preimageOracleMinProposalSize": self.preimage_min_proposal_size,
            "preimageOracleChallengePeriod": self.preimage_challenge_period,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FaultProofConfig:
        return cls(
            game_type=int(obj["respectedGameType"]),
            max_game_depth=int(obj["faultGameMaxDepth"]),
            split_depth=int(obj["faultGameSplitDepth"]),
            max_clock_duration=int(obj["faultGameMaxClockDuration"]),
            clock_extension=int(obj["faultGameClockExtension"]),
            init_bond=int(obj["faultGameInitBond"]),
            absolute_prestate=bytes.fromhex(str(obj["faultGameAbsolutePrestate"])[2:]),
            proof_maturity_delay=int(obj["proofMaturityDelaySeconds"]),
            dispute_game_finality_delay=int(obj["disputeGameFinalityDelaySeconds"]),
            delayed_weth_delay=int(obj["faultGameWithdrawalDelay"]),
            preimage_min_proposal_size=int(obj["preimageOracleMinProposalSize"]),
            preimage_challenge_period=int(obj["preimageOracleChallengePeriod"]),
        )


@dataclass(frozen=True, slots=True)
class FaultProofDeployment:
    """What :func:`deploy_fault_proof_contracts` deployed (artifact.json names, plus
    ``PermissionedDisputeGame`` for the game implementation)."""

    config: FaultProofConfig
    addresses: Mapping[str, str]
    versions: Mapping[str, str]
    anchor_root: bytes | None = None
    """The starting anchor (the L2 genesis output root) once :func:`initialize_anchor_state`
    ran."""

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "addresses": dict(sorted(self.addresses.items())),
            "versions": dict(sorted(self.versions.items())),
            "anchorRoot": None if self.anchor_root is None else to_hex(self.anchor_root),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FaultProofDeployment:
        root = obj.get("anchorRoot")
        return cls(
            config=FaultProofConfig.from_json(obj["config"]),
            addresses=dict(obj["addresses"]),
            versions=dict(obj.get("versions", {})),
            anchor_root=None if root is None else bytes.fromhex(str(root)[2:]),
        )


def deploy_fault_proof_contracts(
    rpc_url: str,
    keys: DevKeys,
    deployment: Deployment,
    config: FaultProofConfig | None = None,
    deploy_config: DeployConfig | None = None,
) -> FaultProofDeployment:
    """Phase 1 (module docstring). ``deployment`` must come from ``deploy_l1_contracts(...,
    initialize_portal=False)``: its OptimismPortal proxy has no implementation yet."""
    cfg = config or FaultProofConfig()
    cfg.check()
    dcfg = deploy_config or deployment.config
    rpc = RpcClient(rpc_url, timeout=30.0)
    admin = keys.admin.address
    s = _Sender(rpc, keys.admin, deployment.l1_chain_id, dcfg)
    pa = load_artifact("ProxyAdmin")
    art = {
        n: load_artifact(n)
        for n in ("Proxy", "DelayedWETH", "PreimageOracle", "MIPS", "AnchorStateRegistry",
                  "PermissionedDisputeGame", "FaultDisputeGame", "DisputeGameFactory",
                  "OptimismPortal2")
    }  # fmt: skip
    prev = dict(deployment.addresses)
    proxy_admin = prev["ProxyAdmin"]
    factory = prev["DisputeGameFactoryProxy"]
    portal = prev["OptimismPortalProxy"]
    a: dict[str, str] = {}

    # deployERC1967Proxy("DelayedWETHProxy"/"AnchorStateRegistryProxy") and the implementations.
    a["DelayedWETHProxy"] = s.deploy("deploy DelayedWETHProxy", art["Proxy"], proxy_admin)
    a["AnchorStateRegistryProxy"] = s.deploy(
        "deploy AnchorStateRegistryProxy", art["Proxy"], proxy_admin
    )
    a["DelayedWETH"] = s.deploy("deploy DelayedWETH", art["DelayedWETH"], cfg.delayed_weth_delay)
    a["PreimageOracle"] = s.deploy(
        "deploy PreimageOracle", art["PreimageOracle"], cfg.preimage_min_proposal_size,
        cfg.preimage_challenge_period,
    )  # fmt: skip
    a["Mips"] = s.deploy("deploy MIPS", art["MIPS"], a["PreimageOracle"])
    a["AnchorStateRegistry"] = s.deploy(
        "deploy AnchorStateRegistry", art["AnchorStateRegistry"], factory
    )
    a["OptimismPortal2"] = s.deploy(
        "deploy OptimismPortal2", art["OptimismPortal2"], cfg.proof_maturity_delay,
        cfg.dispute_game_finality_delay,
    )  # fmt: skip
    # PermissionedDisputeGame(gameType, absolutePrestate, maxGameDepth, splitDepth,
    # clockExtension, maxClockDuration, vm, weth, anchorStateRegistry, l2ChainId, proposer,
    # challenger) (setPermissionedCannonFaultGameImplementation).
    # The permissionless FaultDisputeGame for CANNON (setCannonFaultGameImplementation): not
    # respected by the portal here, but anyone may create its games, e.g. a second proposer
    # beside the permissioned one (the tests compare Go's and pyop's games this way).
    if cfg.game_type != GAME_TYPE_CANNON:
        a["FaultDisputeGame"] = s.deploy(
            "deploy FaultDisputeGame", art["FaultDisputeGame"], GAME_TYPE_CANNON,
            cfg.absolute_prestate, cfg.max_game_depth, cfg.split_depth, cfg.clock_extension,
            cfg.max_clock_duration, a["Mips"], a["DelayedWETHProxy"],
            a["AnchorStateRegistryProxy"], deployment.l2_chain_id,
        )  # fmt: skip
    a["PermissionedDisputeGame"] = s.deploy(
        "deploy PermissionedDisputeGame", art["PermissionedDisputeGame"], cfg.game_type,
        cfg.absolute_prestate, cfg.max_game_depth, cfg.split_depth, cfg.clock_extension,
        cfg.max_clock_duration, a["Mips"], a["DelayedWETHProxy"], a["AnchorStateRegistryProxy"],
        deployment.l2_chain_id, keys.proposer.address, keys.challenger.address,
    )  # fmt: skip

    s.call(
        "initialize DelayedWETH",
        proxy_admin,
        pa.encode_call(
            "upgradeAndCall", a["DelayedWETHProxy"], a["DelayedWETH"],
            art["DelayedWETH"].encode_call("initialize", admin, prev["SuperchainConfigProxy"]),
        ),
        gas=1_000_000,
    )  # fmt: skip
    # The registry's implementation now, its starting anchor in phase 2 (upgradeAndCall needs
    # the implementation set; ``upgrade`` alone leaves the proxy uninitialized).
    s.call(
        "upgrade AnchorStateRegistryProxy",
        proxy_admin,
        pa.encode_call("upgrade", a["AnchorStateRegistryProxy"], a["AnchorStateRegistry"]),
        gas=300_000,
    )
    dgf = art["DisputeGameFactory"]
    s.call(
        f"DisputeGameFactory.setImplementation({cfg.game_type})",
        factory,
        dgf.encode_call("setImplementation", cfg.game_type, a["PermissionedDisputeGame"]),
        gas=200_000,
    )
    s.call(
        f"DisputeGameFactory.setInitBond({cfg.game_type})",
        factory,
        dgf.encode_call("setInitBond", cfg.game_type, cfg.init_bond),
        gas=200_000,
    )
    if "FaultDisputeGame" in a:
        s.call("DisputeGameFactory.setImplementation(0)", factory,
               dgf.encode_call("setImplementation", GAME_TYPE_CANNON, a["FaultDisputeGame"]),
               gas=200_000)  # fmt: skip
        s.call("DisputeGameFactory.setInitBond(0)", factory,
               dgf.encode_call("setInitBond", GAME_TYPE_CANNON, cfg.init_bond), gas=200_000)
    s.call(
        "initialize OptimismPortal2",
        proxy_admin,
        pa.encode_call(
            "upgradeAndCall", portal, a["OptimismPortal2"],
            art["OptimismPortal2"].encode_call(
                "initialize", factory, prev["SystemConfigProxy"], prev["SuperchainConfigProxy"],
                cfg.game_type,
            ),
        ),
        gas=1_500_000,
    )  # fmt: skip
    s.wait(dcfg.receipt_timeout)

    # Read back what the portal and the factory now say.
    (respected,) = eth_call(rpc, portal, art["OptimismPortal2"], "respectedGameType")
    if int(respected) != cfg.game_type:
        raise FaultProofError(f"OptimismPortal2 respects game type {respected}, "
                              f"not {cfg.game_type}")  # fmt: skip
    (impl,) = eth_call(rpc, factory, dgf, "gameImpls", cfg.game_type)
    if str(impl).lower() != a["PermissionedDisputeGame"].lower():
        raise FaultProofError(f"the factory's game {cfg.game_type} implementation is {impl}")
    versions: dict[str, str] = {}
    for name, addr in (("OptimismPortal2", portal), ("DelayedWETH", a["DelayedWETHProxy"]),
                       ("PermissionedDisputeGame", a["PermissionedDisputeGame"]),
                       ("MIPS", a["Mips"]), ("PreimageOracle", a["PreimageOracle"])):  # fmt: skip
        (v,) = eth_call(rpc, addr, art[name], "version")
        versions[name] = str(v)
    return FaultProofDeployment(config=cfg, addresses=a, versions=versions)


def initialize_anchor_state(
    rpc_url: str,
    keys: DevKeys,
    deployment: Deployment,
    fp: FaultProofDeployment,
    anchor_root: bytes,
    anchor_block: int = 0,
) -> FaultProofDeployment:
    """Phase 2: ``AnchorStateRegistry.initialize([{gameType, {anchor_root, anchor_block}}])``
    for the respected game type and CANNON, through the ProxyAdmin
    (``initializeAnchorStateRegistry``)."""
    if len(anchor_root) != 32:
        raise FaultProofError("the anchor root is 32 bytes")
    rpc = RpcClient(rpc_url, timeout=30.0)
    s = _Sender(rpc, keys.admin, deployment.l1_chain_id, deployment.config)
    pa = load_artifact("ProxyAdmin")
    asr = load_artifact("AnchorStateRegistry")
    proxy = fp.addresses["AnchorStateRegistryProxy"]
    starting = [(t, (anchor_root, anchor_block))
                for t in sorted({fp.config.game_type, GAME_TYPE_CANNON})]  # fmt: skip
    # The proxy already points at the implementation (phase 1); upgradeAndCall to the same
    # implementation runs initialize in the proxy's storage.
    s.call(
        "initialize AnchorStateRegistry",
        deployment.addresses["ProxyAdmin"],
        pa.encode_call("upgradeAndCall", proxy, fp.addresses["AnchorStateRegistry"],
                       asr.encode_call("initialize", starting)),
        gas=500_000,
    )
    s.wait(deployment.config.receipt_timeout)
    root, block = eth_call(rpc, proxy, asr, "anchors", fp.config.game_type)
    got_root, got_block = bytes(root), int(block)
    if (got_root, got_block) != (anchor_root, anchor_block):
        raise FaultProofError(f"anchor state reads back as {to_hex(got_root)} @ {got_block}")
    return FaultProofDeployment(
        config=fp.config, addresses=fp.addresses, versions=fp.versions, anchor_root=anchor_root
    )


def respected_game_type(rpc: RpcClient, portal: str) -> int:
    """``OptimismPortal2.respectedGameType()`` (raises for a pre-fault-proof portal)."""
    (t,) = eth_call(rpc, portal, load_artifact("OptimismPortal2"), "respectedGameType")
    return int(t)


def portal_version(rpc: RpcClient, portal: str) -> tuple[int, ...]:
    """The portal's ``version()`` as numbers; 3.x and above is OptimismPortal2 (what the SDK's
    ``fpac()`` checks)."""
    (v,) = eth_call(rpc, portal, load_artifact("OptimismPortal"), "version")
    core = str(v).split("-")[0]
    return tuple(int(x) for x in core.split(".") if x.isdigit())


__all__ = [
    "GAME_TYPE_CANNON",
    "GAME_TYPE_PERMISSIONED_CANNON",
    "PLACEHOLDER_ABSOLUTE_PRESTATE",
    "FaultProofConfig",
    "FaultProofDeployment",
    "FaultProofError",
    "deploy_fault_proof_contracts",
    "initialize_anchor_state",
    "portal_version",
    "respected_game_type",
]
