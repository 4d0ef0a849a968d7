"""Network-upgrade deposit txs: byte-exact against kona's vectors and the specs' values."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyop.protocol import predeploys as pd
from pyop.protocol.deposits import DepositTx, decode_deposit_tx, upgrade_deposit_source_hash
from pyop.protocol.upgrades import (
    JOVIAN_SPEC_INTENTS,
    create_address,
    ecotone_upgrade_txs,
    fjord_upgrade_txs,
    function_selector,
    interop_activation_txs,
    interop_cross_l2_inbox_txs,
    interop_upgrade_txs,
    isthmus_upgrade_txs,
    jovian_upgrade_specs,
    jovian_upgrade_txs,
    load_bytecode,
    upgrade_deposits_at,
    upgrade_to_calldata,
    upgrade_txs_at,
)
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "upgrades"


def _hex(s: str) -> bytes:
    return bytes.fromhex("".join(s.split()).removeprefix("0x"))


def _vector_txs(fork: str) -> list[bytes]:
    files = sorted((VEC / "txs").glob(f"{fork}_tx_*.hex"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    assert files, f"no {fork} upgrade tx vectors found"
    return [_hex(p.read_text()) for p in files]


def _expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VEC / "expected.json").read_text())
    return data


BUILDERS: dict[str, tuple[Callable[[], list[DepositTx]], int]] = {
    "ecotone": (ecotone_upgrade_txs, 6),
    "fjord": (fjord_upgrade_txs, 3),
    "isthmus": (isthmus_upgrade_txs, 8),
    "interop": (interop_upgrade_txs, 4),
}


@pytest.mark.parametrize("fork", sorted(BUILDERS))
def test_upgrade_txs_byte_exact(fork: str) -> None:
    build, count = BUILDERS[fork]
    txs = build()
    want = _vector_txs(fork)
    assert len(want) == count
    assert [t.encode() for t in txs] == want
    exp = _expected()
    for i, tx in enumerate(txs):
        e = exp[f"{fork}_tx_{i}.hex"]
        assert tx.tx_hash() == _hex(e["tx_hash"])
        assert tx.source_hash == _hex(e["source_hash"])
        assert tx.from_ == _hex(e["from_"])
        assert tx.to == (None if e["to"] is None else _hex(e["to"]))
        assert tx.gas == e["gas"]
        assert len(tx.data) == e["data_len"]
        assert (tx.mint, tx.value, tx.is_system_tx) == (0, 0, False)
        assert decode_deposit_tx(want[i]) == tx


def test_interop_split_matches_spec_placement() -> None:
    # interop/derivation.md: the L2ToL2CrossDomainMessenger pair at activation, the CrossL2Inbox
    # pair when the dependency set first has 2+ chains.
    act = interop_activation_txs()
    inbox = interop_cross_l2_inbox_txs()
    assert [t.to for t in act] == [None, pd.L2_TO_L2_CROSS_DOMAIN_MESSENGER]
    assert [t.to for t in inbox] == [None, pd.CROSS_L2_INBOX]
    assert interop_upgrade_txs() == inbox + act


def test_selectors_and_create_addresses_from_the_specs() -> None:
    assert function_selector("upgradeTo(address)") == _hex("3659cfe6")
    assert function_selector("setEcotone()") == _hex("22b90ab3")
    assert function_selector("setFjord()") == _hex("8e98b106")
    assert function_selector("setIsthmus()") == _hex("291b0383")
    assert function_selector("setJovian()") == _hex("b3d72079")
    # "cast compute-address --nonce=0 <deployer>" values quoted in the specs.
    cases = [
        (pd.ECOTONE_L1_BLOCK_DEPLOYER, "07dbe8500fc591d1852B76feE44d5a05e13097Ff"),
        (pd.ECOTONE_GAS_PRICE_ORACLE_DEPLOYER, "b528D11cC114E026F138fE568744c6D45ce6Da7A"),
        (pd.FJORD_GAS_PRICE_ORACLE_DEPLOYER, "a919894851548179A0750865e7974DA599C0Fac7"),
        (pd.ISTHMUS_L1_BLOCK_DEPLOYER, "Ff256497D61dcd71a9e9Ff43967C13fdE1F72D12"),
        (pd.ISTHMUS_GAS_PRICE_ORACLE_DEPLOYER, "93e57A196454CB919193fa9946f14943cf733845"),
        (pd.ISTHMUS_OPERATOR_FEE_VAULT_DEPLOYER, "4fa2Be8cd41504037F1838BcE3bCC93bC68Ff537"),
        (pd.JOVIAN_L1_BLOCK_DEPLOYER, "3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C"),
        (pd.JOVIAN_GAS_PRICE_ORACLE_DEPLOYER, "4f1db3c6AbD250ba86E0928471A8F7DB3AFd88F1"),
        (pd.INTEROP_L2_TO_L2_XDM_DEPLOYER, "0D0eDd0ebd0e94d218670a8De867Eb5C4d37cadD"),
        (pd.INTEROP_CROSS_L2_INBOX_DEPLOYER, "691300f512e48B463C2617b34Eef1A9f82EE7dBf"),
        (pd.EIP4788_DEPLOYER, "000F3df6D732807Ef1319fB7B8bB8522d0Beac02"),
        (pd.EIP2935_DEPLOYER, "0000F90827F1C53a10cb7A02335B175320002935"),
    ]
    for deployer, addr in cases:
        assert create_address(deployer, 0) == _hex(addr)
    assert create_address(pd.EIP4788_DEPLOYER, 0) == pd.BEACON_ROOTS
    assert create_address(pd.EIP2935_DEPLOYER, 0) == pd.HISTORY_STORAGE
    assert pd.to_checksum(pd.BEACON_ROOTS) == "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02"


# --- Jovian --------------------------------------------------------------------------------------


def _jovian_golden() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((VEC / "jovian-intents.json").read_text())
    return data


def test_jovian_intents_pinned_to_golden_values() -> None:
    g = _jovian_golden()
    impl = next(v for k, v in g.items() if k.startswith("kona"))  # kona + Go op-node spelling
    spec = next(v for k, v in g.items() if k.startswith("specs"))
    both = g["both"]
    txs = jovian_upgrade_txs()
    specs = jovian_upgrade_specs()
    chosen = {**impl, **both}
    assert [s.intent for s in specs] == [
        "Jovian: L1 Block Deployment",
        "Jovian: L1 Block Proxy Update",
        "Jovian: Gas Price Oracle Deployment",
        "Jovian: Gas Price Oracle Proxy Update",
        "Jovian: Gas Price Oracle Set Jovian",
    ]
    for s, tx in zip(specs, txs, strict=True):
        assert tx.source_hash == _hex(chosen[s.intent])
        # The spec spelling, kept for reference, hashes to the specs' values.
        spec_intent = JOVIAN_SPEC_INTENTS[s.intent]
        assert upgrade_deposit_source_hash(spec_intent) == _hex({**spec, **both}[spec_intent])


def test_jovian_txs_match_the_spec_fields() -> None:
    txs = jovian_upgrade_txs()
    assert len(txs) == 5
    l1b, l1b_proxy, gpo, gpo_proxy, enable = txs
    # specs/protocol/jovian/derivation.md, field by field (intents aside).
    assert (l1b.from_, l1b.to, l1b.gas) == (pd.JOVIAN_L1_BLOCK_DEPLOYER, None, 447_315)
    assert l1b.data == _hex((VEC / "bytecode" / "jovian-l1-block-deployment.txt").read_text())
    assert (l1b_proxy.from_, l1b_proxy.to, l1b_proxy.gas) == (pd.ZERO_ADDRESS, pd.L1_BLOCK, 50_000)
    assert l1b_proxy.data == _hex(
        "0x3659cfe60000000000000000000000003ba4007f5c922fbb33c454b41ea7a1f11e83df2c"
    )
    assert (gpo.from_, gpo.to, gpo.gas) == (pd.JOVIAN_GAS_PRICE_ORACLE_DEPLOYER, None, 1_750_714)
    assert gpo.data == _hex(
        (VEC / "bytecode" / "jovian-gas-price-oracle-deployment.txt").read_text()
    )
    assert (gpo_proxy.from_, gpo_proxy.to, gpo_proxy.gas) == (
        pd.ZERO_ADDRESS,
        pd.GAS_PRICE_ORACLE,
        50_000,
    )
    assert gpo_proxy.data == _hex(
        "0x3659cfe60000000000000000000000004f1db3c6abd250ba86e0928471a8f7db3afd88f1"
    )
    assert (enable.from_, enable.to, enable.gas, enable.data) == (
        pd.L1_INFO_DEPOSITOR,
        pd.GAS_PRICE_ORACLE,
        90_000,
        _hex("b3d72079"),
    )
    for tx in txs:
        assert (tx.mint, tx.value, tx.is_system_tx) == (0, 0, False)
        assert decode_deposit_tx(tx.encode()) == tx


def test_upgrade_to_calldata_layout() -> None:
    addr = bytes(range(20))
    assert upgrade_to_calldata(addr) == _hex("3659cfe6") + b"\x00" * 12 + addr


def test_shipped_bytecode_loads() -> None:
    assert load_bytecode("isthmus-eip2935-deployment")[:3] == _hex("605380")
    with pytest.raises(FileNotFoundError):
        load_bytecode("no-such-contract")


# --- Activation blocks ---------------------------------------------------------------------------


@dataclass
class Schedule:
    times: dict[str, int] = field(default_factory=dict)
    block_time: int = 2

    def _act(self, name: str, t: int) -> bool:
        x = self.times.get(name)
        return x is not None and t >= x and t >= self.block_time and t - self.block_time < x

    def is_ecotone_activation_block(self, t: int) -> bool:
        return self._act("ecotone", t)

    def is_fjord_activation_block(self, t: int) -> bool:
        return self._act("fjord", t)

    def is_isthmus_activation_block(self, t: int) -> bool:
        return self._act("isthmus", t)

    def is_jovian_activation_block(self, t: int) -> bool:
        return self._act("jovian", t)

    def is_karst_activation_block(self, t: int) -> bool:
        return self._act("karst", t)

    def is_lagoon_activation_block(self, t: int) -> bool:
        return self._act("lagoon", t)

    def is_interop(self, t: int) -> bool:
        x = self.times.get("lagoon")
        return x is not None and t >= x

    keep_karst_upgrade_gas: bool = False


def test_upgrade_txs_at() -> None:
    t = 1_000
    s = Schedule({"ecotone": t, "fjord": t + 10, "isthmus": t + 20, "jovian": t + 30})
    assert upgrade_txs_at(s, t - 2) == []
    assert upgrade_txs_at(s, t) == _vector_txs("ecotone")
    assert upgrade_txs_at(s, t + 1) == _vector_txs("ecotone")  # first block at/after the time
    assert upgrade_txs_at(s, t + 2) == []
    assert upgrade_txs_at(s, t + 10) == _vector_txs("fjord")
    assert upgrade_txs_at(s, t + 20) == _vector_txs("isthmus")
    assert upgrade_txs_at(s, t + 30) == [tx.encode() for tx in jovian_upgrade_txs()]
    # Several forks in one block: op-node's order Ecotone, Fjord, Isthmus, Jovian.
    same = Schedule({"ecotone": t, "fjord": t, "isthmus": t, "jovian": t})
    assert upgrade_txs_at(same, t) == (
        _vector_txs("ecotone")
        + _vector_txs("fjord")
        + _vector_txs("isthmus")
        + [tx.encode() for tx in jovian_upgrade_txs()]
    )
    assert len(upgrade_deposits_at(same, t)) == 6 + 3 + 8 + 5
    # Forks active at genesis have no activation block (genesis has no transactions).
    assert upgrade_txs_at(Schedule({"ecotone": 0}), 0) == []
