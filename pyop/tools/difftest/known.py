"""Known divergences: kept, listed with their reason, reported on every run (never hidden).

``spec_vectors/divergences/KNOWN.json`` holds, per id, the reason, the status and the targets
where it shows; this module holds the matching predicate of each id (over the input and both
results), so what counts as "known" is code that can be read and reviewed. An id in the file
without a predicate, or a predicate without an entry, is an error (a test checks both ways).
Ids D1-D14 are the audit's (shared notes, audit-derivation-vs-op-node-v1.19.6.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyop.tools.difftest.seeds import SPEC

KNOWN_FILE = SPEC / "divergences" / "KNOWN.json"

#: (target, input, pyop value, pyop info, go value, go info) -> matches
Matcher = Callable[[str, dict[str, Any], Any, dict[str, Any], Any, dict[str, Any]], bool]


@dataclass(frozen=True)
class Known:
    id: str
    reason: str
    status: str
    targets: tuple[str, ...]


def load_known(path: Path = KNOWN_FILE) -> dict[str, Known]:
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    return {
        k: Known(k, v["reason"], v["status"], tuple(v["targets"]))
        for k, v in raw.items()
        if not k.startswith("_")
    }


def _msg(info: dict[str, Any]) -> str:
    return json.dumps(info)


MATCHERS: dict[str, Matcher] = {}


def matcher(id_: str) -> Callable[[Matcher], Matcher]:
    def deco(f: Matcher) -> Matcher:
        MATCHERS[id_] = f
        return f

    return deco


def classify(known: dict[str, Known], target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any],
             go: Any, go_info: dict[str, Any]) -> str | None:  # fmt: skip
    """The id of the known divergence this one is, or ``None`` (unexplained). A channel can
    show two at once (a span batch pyop drops and a tail op-node loses): ``"D11+N4"``; so can
    the attributes of a block where two forks activate (``"D8+N5"``)."""
    for k in known.values():
        if target not in k.targets:
            continue
        m = MATCHERS.get(k.id)
        if m is not None and m(target, inp, py, py_info, go, go_info):
            return k.id
    if target == "channel":
        return _channel_combination(known, inp, py, py_info, go, go_info)
    if target == "attributes":
        return _attributes_combination(known, inp, py, py_info, go, go_info)
    return None


def _attributes_combination(known: dict[str, Known], inp: dict[str, Any], py: Any, py_info: dict[str, Any],
                            go: Any, go_info: dict[str, Any]) -> str | None:  # fmt: skip
    """Several activation-block divergences in one block (e.g. Holocene and Karst activating
    together: D8 + N5): every differing attributes field must be explained by a known id on
    its own (op-node's attributes with just that field taken from pyop)."""
    if not (isinstance(py, dict) and isinstance(go, dict)):
        return None
    pa, ga = py.get("attributes"), go.get("attributes")
    if not (isinstance(pa, dict) and isinstance(ga, dict)):
        return None
    ids: list[str] = []
    for field in [f for f in pa if pa[f] != ga.get(f)]:
        one = {"attributes": {**ga, field: pa[field]}}
        hit = next((k.id for k in known.values() if "attributes" in k.targets and k.id in MATCHERS
                    and MATCHERS[k.id]("attributes", inp, one, py_info, go, go_info)), None)  # fmt: skip
        if hit is None:
            return None
        if hit not in ids:
            ids.append(hit)
    return "+".join(ids) if len(ids) > 1 else None


#: pyop's drop messages for span batches op-node keeps (the channel target's info).
_SPAN_DROPS = (("D6", r"unsupported span-batch tx type"), ("D10", r"negative L1 origin number"),
               ("D11", r"integer wider than 32 bytes"))  # fmt: skip


def _channel_combination(known: dict[str, Known], inp: dict[str, Any], py: Any, py_info: dict[str, Any],
                         go: Any, go_info: dict[str, Any]) -> str | None:  # fmt: skip
    """Align the two batch lists: batches only op-node has must be span batches pyop dropped for
    a known reason (D6/D10/D11); batches only pyop has must be a tail op-node lost (N1 brotli,
    N4 zlib). Returns the ids joined with "+" when more than one is needed."""
    if not (isinstance(py, dict) and isinstance(go, dict) and "batches" in py and "batches" in go):
        return None
    pb, gb = py["batches"], go["batches"]
    i = j = go_only = 0
    while i < len(pb) and j < len(gb):
        if pb[i] == gb[j]:
            i += 1
        else:
            go_only += 1
        j += 1
    go_only += len(gb) - j
    py_tail = len(pb) - i
    ids: list[str] = []
    if go_only:
        ids += [k for k, pat in _SPAN_DROPS if _pyop_says(py, py_info, pat)]
        if not ids:
            return None
    if py_tail:
        tail_go, tail_py = {"batches": pb[:i]}, {"batches": pb}
        tail = [k for k in ("N1", "N4") if k in MATCHERS and MATCHERS[k]("channel", inp, tail_py, py_info, tail_go, go_info)]
        if not tail:
            return None
        ids += tail
    if len(ids) < 2 or any(k not in known for k in ids):
        return None
    return "+".join(ids)


_ = re


# ---------------------------------------------------------------------------------------------
# Matchers. Each says, for the targets where the divergence shows, what pyop and op-node give.
# ---------------------------------------------------------------------------------------------


def _pyop_says(py: Any, py_info: dict[str, Any], pattern: str) -> bool:
    return re.search(pattern, _msg(py_info)) is not None


def _channel_prefix(py: Any, go: Any) -> bool:
    """pyop's batches are op-node's with some left out, in order (pyop dropped more)."""
    if not (isinstance(py, dict) and isinstance(go, dict) and "batches" in py and "batches" in go):
        return False
    it = iter(go["batches"])
    return len(py["batches"]) < len(go["batches"]) and all(any(b == g for g in it) for b in py["batches"])


@matcher("N1")
def _n1(target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any], go: Any, go_info: dict[str, Any]) -> bool:
    """Corrupt brotli stream: pyop keeps the batches decoded before the corrupt byte; op-node
    (andybalholm/brotli) loses what the decoder had not flushed when the error hit."""
    if target != "channel" or not str(inp.get("data", "")).startswith("0x01"):
        return False
    return _channel_prefix(go, py)


@matcher("N2")
def _n2(target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any], go: Any, go_info: dict[str, Any]) -> bool:
    """The L1-info deposit cannot be built (e.g. a SystemConfig scalar with an unknown
    version once Ecotone is active): op-node's attributes builder returns a CriticalError,
    pyop's raises L1InfoError, which its node driver treats as temporary (retries forever)."""
    return target == "attributes" and py == {"err": "untyped:L1InfoError"} and go == {"err": "critical"}


@matcher("D14")
def _d14(target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any], go: Any, go_info: dict[str, Any]) -> bool:
    """L1-info calldata decoded by its selector (pyop) vs by the format of the L2 block's time
    (op-node L1BlockInfoFromBytes): they differ exactly when the two formats differ."""
    if target != "l1-info" or inp.get("mode") != "decode":
        return False
    from pyop.primitives import PyopError
    from pyop.protocol.l1_info import l1_info_format_at, l1_info_format_of
    from pyop.tools.difftest.targets._common import cfg_of

    try:
        by_selector = l1_info_format_of(bytes.fromhex(str(inp["data"])[2:]))
    except PyopError:
        return False
    return by_selector is not l1_info_format_at(cfg_of(inp["cfg"]), int(inp["l2Time"]))


@matcher("N4")
def _n4(target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any], go: Any, go_info: dict[str, Any]) -> bool:
    """A zlib channel whose stream ends abruptly (cut mid-block or corrupt): op-node loses a
    batch whose last bytes come out of the zlib reader together with the error; pyop keeps it."""
    data = str(inp.get("data", ""))
    if target != "channel" or len(data) < 4 or int(data[2:4], 16) & 0x0F not in (8, 15):
        return False
    if not _channel_prefix(go, py):
        return False
    from pyop.codec.channel import decompress_channel
    from pyop.primitives import PyopError
    from pyop.tools.difftest.targets._common import cfg_of

    cfg = cfg_of(inp["cfg"])
    t = int(inp["origin"]["timestamp"])
    try:
        dec = decompress_channel(bytes.fromhex(data[2:]), max_rlp_bytes=cfg.max_rlp_bytes_per_channel(t),
                                 allow_brotli=cfg.is_fjord(t))  # fmt: skip
    except PyopError:
        return False
    return (not dec.complete and not dec.capped) or dec.stream_error is not None


@matcher("N5")
def _n5(target: str, inp: dict[str, Any], py: Any, py_info: dict[str, Any], go: Any, go_info: dict[str, Any]) -> bool:
    """Karst activation block: SystemConfig gas limit + upgrade gas over 2^64 - 1; op-node's
    uint64 sum wraps, pyop's does not."""
    if target != "attributes" or not (isinstance(py, dict) and isinstance(go, dict)):
        return False
    pa, ga = py.get("attributes"), go.get("attributes")
    if not (isinstance(pa, dict) and isinstance(ga, dict)):
        return False
    return ({k for k in pa if pa[k] != ga[k]} == {"gasLimit"} and int(pa["gasLimit"]) >= 1 << 64
            and int(pa["gasLimit"]) % (1 << 64) == int(ga["gasLimit"]))  # fmt: skip
