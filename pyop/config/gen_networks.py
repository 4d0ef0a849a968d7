"""Generate ``pyop/config/data/networks.json`` (the ``--network`` presets) from the registry dump.

Inputs (see ``pyop/config/data/README.md`` for provenance), all under the shared vectors dir:

- ``registry/superchain-configs.json``: the superchain registry dump (kona's
  ``crates/protocol/registry/etc/configs.json``): per superchain its L1 chain id, protocol
  versions address and default fork times, and per chain its (already resolved)
  ``hardfork_configuration``, genesis, block time, sequencing window, drift, inbox, addresses,
  EIP-1559 ``optimism`` params and ``alt_da``.
- ``registry/chainList.json``: chain ids to ``identifier`` = ``<superchain>/<chain>``.
- ``rollup-configs/*.rollup.json``: op-node rollup configs built from a newer registry commit;
  fork times they set that the dump lacks (Karst) are merged in. Any other disagreement fails.

Rules (op-node ``rollup.LoadOPStackRollupConfig`` + ``chaincfg.AvailableNetworks``):
network name ``<chain>-<superchain>`` from the identifier; ``regolith_time`` 0;
``channel_timeout`` 300; ``l1_chain_id`` and ``protocol_versions_address`` from the superchain;
deposit contract = ``OptimismPortalProxy``, system config = ``SystemConfigProxy``;
``chain_op_config`` = the chain's ``optimism`` params; ``alt_da`` from the chain when set.

Run: ``python -m pyop.config.gen_networks [VECTORS_DIR]`` (default ``../shared/vectors`` next to
the repository) to rewrite the data file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyop.config.errors import RollupConfigError
from pyop.config.forks import CHANNEL_TIMEOUT_BEDROCK_REGISTRY, Fork
from pyop.config.rollup import AltDAConfig, ChainOpConfig, Genesis, RollupConfig
from pyop.primitives import ZERO_ADDRESS, BlockID, SystemConfig, from_hex

JSONObject = dict[str, object]

DATA_FILE = Path(__file__).resolve().parent / "data" / "networks.json"
DEFAULT_VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"

#: op-node ``chaincfg.handleLegacyName``.
LEGACY_ALIASES = {"mainnet": "op-mainnet", "sepolia": "op-sepolia"}

_FORK_KEYS = {f.json_key for f in Fork} | {"pectra_blob_schedule_time"}
#: Hardfork keys the registry dump spells by an older name: op-node v1.19 renamed the "interop"
#: fork to Lagoon (``lagoon_time``; op-geth's ``superchain.HardforkConfig`` has only
#: ``lagoon_time``). The dump (kona @ cdb9be24) predates the rename.
_RENAMED_FORK_KEYS = {"interop_time": "lagoon_time"}
_SYSCFG_EXTRAS = (
    "baseFeeScalar",
    "blobBaseFeeScalar",
    "eip1559Denominator",
    "eip1559Elasticity",
    "operatorFeeScalar",
    "operatorFeeConstant",
    "minBaseFee",
    "daFootprintGasScalar",
)


class RegistryError(RollupConfigError):
    """The registry dump has something the generator cannot map."""


def network_name(identifier: str) -> str:
    """``"mainnet/op"`` -> ``"op-mainnet"`` (op-node ``Chain + "-" + Superchain``)."""
    superchain, sep, chain = identifier.partition("/")
    if not sep or not superchain or not chain or "/" in chain:
        raise RegistryError(f"bad chain identifier {identifier!r}")
    return f"{chain}-{superchain}"


def _get(d: object, key: str, where: str) -> object:
    if not isinstance(d, dict) or key not in d:
        raise RegistryError(f"{where}: missing {key!r}")
    return d[key]


def _obj(d: object, key: str, where: str) -> dict[str, object]:
    v = _get(d, key, where)
    if not isinstance(v, dict):
        raise RegistryError(f"{where}.{key}: expected an object, got {v!r}")
    return v


def _int(d: object, key: str, where: str) -> int:
    v = _get(d, key, where)
    if isinstance(v, bool) or not isinstance(v, int):
        raise RegistryError(f"{where}.{key}: expected an integer, got {v!r}")
    return v


def _hex(d: object, key: str, where: str, length: int) -> bytes:
    v = _get(d, key, where)
    if not isinstance(v, str):
        raise RegistryError(f"{where}.{key}: expected hex, got {v!r}")
    return from_hex(v, length=length, what=f"{where}.{key}")


def rollup_config_from_registry(chain: JSONObject, superchain: JSONObject) -> RollupConfig:
    """One registry chain entry (+ its superchain's ``config``) as an op-node rollup config."""
    where = f"chain {chain.get('l2_chain_id')}"
    gen = _obj(chain, "genesis", where)
    sc = _obj(gen, "system_config", where + ".genesis")
    for extra in _SYSCFG_EXTRAS:
        if sc.get(extra) is not None:
            raise RegistryError(f"{where}: genesis system_config.{extra} set; not mapped")
    l1, l2 = _obj(gen, "l1", where), _obj(gen, "l2", where)
    genesis = Genesis(
        l1=BlockID(_hex(l1, "hash", where, 32), _int(l1, "number", where)),
        l2=BlockID(_hex(l2, "hash", where, 32), _int(l2, "number", where)),
        l2_time=_int(gen, "l2_time", where),
        system_config=SystemConfig(
            batcher_addr=_hex(sc, "batcherAddr", where, 20),
            overhead=_hex(sc, "overhead", where, 32),
            scalar=_hex(sc, "scalar", where, 32),
            gas_limit=_int(sc, "gasLimit", where),
        ),
    )
    hf = dict(_obj(chain, "hardfork_configuration", where))
    for old, new in _RENAMED_FORK_KEYS.items():
        if old in hf:
            if hf.get(new) is not None:
                raise RegistryError(f"{where}: both {old} and {new} set")
            hf[new] = hf.pop(old)
    unknown = set(hf) - _FORK_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown hardfork keys {sorted(unknown)}")
    times: dict[str, int | None] = {}
    for key in _FORK_KEYS:
        v = hf.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise RegistryError(f"{where}: hardfork {key} is {v!r}")
        times[key] = v
    if times["regolith_time"] is None:
        times["regolith_time"] = 0  # op-node LoadOPStackRollupConfig: RegolithTime = 0

    opt = chain.get("optimism")
    chain_op = None
    if opt is not None:
        chain_op = ChainOpConfig(
            eip1559_elasticity=_int(opt, "eip1559Elasticity", where + ".optimism"),
            eip1559_denominator=_int(opt, "eip1559Denominator", where + ".optimism"),
            eip1559_denominator_canyon=_int(opt, "eip1559DenominatorCanyon", where + ".optimism"),
        )
    alt_da = None
    if chain.get("alt_da") is not None:
        alt = _obj(chain, "alt_da", where)
        addr = alt.get("da_challenge_address")
        ctype = _get(alt, "da_commitment_type", where + ".alt_da")
        if not isinstance(ctype, str):
            raise RegistryError(f"{where}.alt_da: bad commitment type {ctype!r}")
        alt_da = AltDAConfig(
            da_challenge_address=ZERO_ADDRESS
            if addr is None
            else _hex(alt, "da_challenge_address", where, 20),
            da_commitment_type=ctype,
            da_challenge_window=_int(alt, "da_challenge_window", where + ".alt_da"),
            da_resolve_window=_int(alt, "da_resolve_window", where + ".alt_da"),
        )
    addrs = _obj(chain, "Addresses", where)
    pv = superchain.get("protocol_versions_addr")
    return RollupConfig(
        genesis=genesis,
        block_time=_int(chain, "block_time", where),
        max_sequencer_drift=_int(chain, "max_sequencer_drift", where),
        seq_window_size=_int(chain, "seq_window_size", where),
        channel_timeout=CHANNEL_TIMEOUT_BEDROCK_REGISTRY,
        l1_chain_id=_int(_obj(superchain, "l1", "superchain"), "chain_id", "superchain.l1"),
        l2_chain_id=_int(chain, "l2_chain_id", where),
        regolith_time=times["regolith_time"],
        canyon_time=times["canyon_time"],
        delta_time=times["delta_time"],
        ecotone_time=times["ecotone_time"],
        fjord_time=times["fjord_time"],
        granite_time=times["granite_time"],
        holocene_time=times["holocene_time"],
        isthmus_time=times["isthmus_time"],
        jovian_time=times["jovian_time"],
        karst_time=times["karst_time"],
        lagoon_time=times["lagoon_time"],
        batch_inbox_address=_hex(chain, "batch_inbox_address", where, 20),
        deposit_contract_address=_hex(addrs, "OptimismPortalProxy", where, 20),
        l1_system_config_address=_hex(addrs, "SystemConfigProxy", where, 20),
        protocol_versions_address=ZERO_ADDRESS
        if pv is None
        else _hex(superchain, "protocol_versions_addr", "superchain", 20),
        alt_da=alt_da,
        chain_op_config=chain_op,
        pectra_blob_schedule_time=times["pectra_blob_schedule_time"],
    )


def derive_from_registry(superchains: JSONObject, chain_list: list[JSONObject]) -> dict[str, JSONObject]:
    """``{network name: {"chain_name", "rollup_config"}}`` for every chain in the dump."""
    ids: dict[int, str] = {}
    for entry in chain_list:
        cid, ident = entry.get("chainId"), entry.get("identifier")
        if not isinstance(cid, int) or not isinstance(ident, str):
            raise RegistryError(f"bad chainList entry {entry!r}")
        ids[cid] = ident
    out: dict[str, JSONObject] = {}
    scs = _get(superchains, "superchains", "registry")
    if not isinstance(scs, list):
        raise RegistryError("registry: superchains is not a list")
    for sc in scs:
        config = _obj(sc, "config", "superchain")
        chains = _get(sc, "chains", "superchain")
        if not isinstance(chains, list):
            raise RegistryError("registry: bad superchain entry")
        for chain in chains:
            if not isinstance(chain, dict):
                raise RegistryError("registry: bad chain entry")
            cid = _int(chain, "l2_chain_id", "chain")
            if cid not in ids:
                raise RegistryError(f"chain {cid} missing from chainList.json")
            name = network_name(ids[cid])
            if name in out:
                raise RegistryError(f"duplicate network name {name!r}")
            cfg = rollup_config_from_registry(chain, config)
            out[name] = {"chain_name": chain.get("Name"), "rollup_config": cfg.to_json()}
    return dict(sorted(out.items()))


def merge_rollup_config_files(
    networks: dict[str, JSONObject], files: dict[str, JSONObject]
) -> dict[str, JSONObject]:
    """Merge fork times from newer rollup.json files into registry-derived configs.

    Only fork-time keys the registry-derived config lacks are taken; any other difference is
    an error. ``files`` maps network name to the rollup.json object.
    """
    merged = dict(networks)
    for name, file_cfg in sorted(files.items()):
        if name not in merged:
            raise RegistryError(f"rollup config for unknown network {name!r}")
        derived = _obj(merged[name], "rollup_config", name)
        new: JSONObject = {}
        # Keep the file's (op-node) key order.
        for key, val in file_cfg.items():
            if key in derived and derived[key] != val:
                raise RegistryError(
                    f"{name}: {key} differs: registry {derived[key]!r} vs file {val!r}"
                )
            if key not in derived and key not in _FORK_KEYS:
                raise RegistryError(f"{name}: {key} only in the rollup config file")
            new[key] = val
        for key in derived:
            if key not in file_cfg:
                raise RegistryError(f"{name}: {key} missing from the rollup config file")
        merged[name] = {**merged[name], "rollup_config": new}
    return merged


def load_inputs(vectors: Path) -> tuple[JSONObject, list[JSONObject], dict[str, JSONObject]]:
    """Read the registry dump, chain list and rollup-configs files (keyed by network name)."""
    superchains = json.loads((vectors / "registry" / "superchain-configs.json").read_text())
    chain_list = json.loads((vectors / "registry" / "chainList.json").read_text())
    by_id = {e["chainId"]: network_name(e["identifier"]) for e in chain_list}
    files: dict[str, JSONObject] = {}
    for p in sorted((vectors / "rollup-configs").glob("*.rollup.json")):
        obj = json.loads(p.read_text())
        files[by_id[obj["l2_chain_id"]]] = obj
    return superchains, chain_list, files


def build_networks(vectors: Path) -> JSONObject:
    """The full content of ``networks.json``."""
    superchains, chain_list, files = load_inputs(vectors)
    nets = merge_rollup_config_files(derive_from_registry(superchains, chain_list), files)
    return {"aliases": dict(LEGACY_ALIASES), "networks": nets}


def render(data: JSONObject) -> str:
    """Stable text form: one network per line."""
    nets = _obj(data, "networks", "data")
    lines = ["{", f' "aliases": {json.dumps(data["aliases"])},', ' "networks": {']
    items = list(nets.items())
    for i, (name, val) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(val, separators=(',', ':'))}{comma}")
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    vectors = Path(args[0]) if args else DEFAULT_VECTORS
    DATA_FILE.write_text(render(build_networks(vectors.resolve())), encoding="utf-8")
    print(f"wrote {DATA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
