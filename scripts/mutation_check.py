#!/usr/bin/env python
"""Mutation check of pyop/derivation and pyop/protocol against the fast test suite.

Each *mutant* is one small, meaningful change to the source (a comparison flipped at a
boundary, a constant off by one, a boolean flipped, a check removed). For each mutant the fast
suite (:data:`FAST_SUITE`: no devnet, no anvil, no Go peers) runs with ``-x`` against a copy of
``pyop/`` holding the mutant; the mutant is *killed* when a test fails (or the run exceeds its
time budget), *survived* when every test passes. The checkout itself is never modified.

Mutants:

- ``M1``..``M38``: the hand-made mutants of the test audit
  (``../shared/notes/audit-tests-and-mutations.md`` section 2), recreated by source pattern so
  they follow the code as it moves. A pattern that no longer matches (the code was rewritten,
  e.g. by a fix) makes the mutant ``stale``; it is reported, not scored. The audit's table has
  no M24 and M35; here M24 disables the span-batch parent check and M35 the Holocene
  frame-queue "frame after the closing frame" rule.
- ``G1``..: generated from the AST of ``pyop/derivation/*.py`` and ``pyop/protocol/*.py``
  (comparison boundary and negation flips, integer constants +1, ``True``/``False`` flips,
  ``not`` removed, ``and``/``or`` swapped, ``if ...: raise/return`` guards disabled), a seeded
  sample of ``--generated`` of them (``--generated 0``: none; ``--generated -1``: all).

Mutants judged *equivalent* (no observable behaviour change; the reason is recorded) are listed
in :data:`EQUIVALENT` by key and are not scored. Score = killed / (killed + survived).

Run (about 1-2 s per killed mutant and a full suite run per survivor, ~25 s on 2 cores; keep
parallelism 1 and hold a heavy slot)::

    heavy .venv/bin/python scripts/mutation_check.py                 # M1-M38 + 100 generated
    heavy .venv/bin/python scripts/mutation_check.py --only M3,M26    # some audit mutants
    .venv/bin/python scripts/mutation_check.py --list --generated -1  # list every mutant, run none

A JSON report goes to ``--report`` (default ``out/mutation-report.json``, git-ignored) and a
table to stdout. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = [REPO]
"""Where mutant sources are read from: the checkout, or the shadow copy of ``--rev``."""

FAST_SUITE = (
    "tests/derivation",
    "tests/protocol",
    "tests/codec",
    "tests/config",
    "tests/tools",
    "tests/sources",
    "tests/engine/test_engine_client.py",
    "tests/engine/test_engine_consolidate.py",
    "tests/engine/test_engine_controller.py",
    "tests/node/test_node_config.py",
    "tests/node/test_node_finality.py",
    "tests/node/test_node_finality_reset.py",
    "tests/node/test_node_l1_watcher.py",
    "tests/node/test_node_metrics.py",
    "tests/node/test_node_rpc.py",
    "tests/node/test_node_safedb.py",
    "tests/node/test_node_sequencer.py",
)
"""The fast suite: every test that needs no anvil, op-geth or Go peer (``tests/devnet``,
``tests/node/test_node_e2e_*``, ``test_node_devnet.py`` and ``test_engine_opgeth.py`` are
left out; ``tests/test_layering.py`` checks imports, not behaviour)."""

TARGETS = ("pyop/derivation", "pyop/protocol")
SKIP_FILES = ("pyop/derivation/drops.py", "pyop/derivation/__init__.py")
"""Diagnostics only (drop/decision records and their formatting): not mutated."""


@dataclass(frozen=True)
class Pattern:
    """``old`` -> ``new`` in ``file`` (inside function ``func`` if given; the ``nth`` match).
    ``alternatives``: further (old, new) pairs tried in order if ``old`` is absent (for code
    that a planned fix changes, e.g. the Holocene concluding flag)."""

    file: str
    old: str
    new: str
    func: str = ""
    nth: int = 0
    alternatives: tuple[tuple[str, str], ...] = ()


AUDIT: dict[str, tuple[str, Pattern]] = {
    "M1": ("singular batch: sequencing window `<` -> `<=`",
           Pattern("pyop/derivation/batches.py", "batch.epoch_num + cfg.seq_window_size < inclusion.number",
                   "batch.epoch_num + cfg.seq_window_size <= inclusion.number", "check_singular_batch")),
    "M2": ("singular batch: sequencing window one block more lenient",
           Pattern("pyop/derivation/batches.py", "batch.epoch_num + cfg.seq_window_size < inclusion.number",
                   "batch.epoch_num + cfg.seq_window_size + 1 < inclusion.number", "check_singular_batch")),
    "M3": ("span batch: sequencing window `<` -> `<=`",
           Pattern("pyop/derivation/batches.py", "start_epoch + cfg.seq_window_size < inclusion.number",
                   "start_epoch + cfg.seq_window_size <= inclusion.number", "check_span_batch_prefix")),
    "M4": ("span batch: sequencing window one block more lenient",
           Pattern("pyop/derivation/batches.py", "start_epoch + cfg.seq_window_size < inclusion.number",
                   "start_epoch + cfg.seq_window_size + 1 < inclusion.number", "check_span_batch_prefix")),
    "M5": ("window expiry forces empty batches only when strictly past",
           Pattern("pyop/derivation/batch_queue.py",
                   "force = (expiry == origin.number and out_of_data) or expiry < origin.number",
                   "force = expiry < origin.number", "_derive_next_empty_batch")),
    "M6": ("window expiry one L1 block early",
           Pattern("pyop/derivation/batch_queue.py", "expiry = epoch.number + self.cfg.seq_window_size",
                   "expiry = epoch.number + self.cfg.seq_window_size - 1", "_derive_next_empty_batch")),
    "M7": ("Jovian DEFAULT_DA_FOOTPRINT_GAS_SCALAR 400 -> 401",
           Pattern("pyop/protocol/l1_info.py", "DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 400",
                   "DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 401")),
    "M8": ("Prague BLOB_BASE_FEE_UPDATE_FRACTION + 1",
           Pattern("pyop/config/l1_chains.py", "PRAGUE_BLOB_CONFIG = BlobConfig(target=6, max=9, update_fraction=5_007_716)",
                   "PRAGUE_BLOB_CONFIG = BlobConfig(target=6, max=9, update_fraction=5_007_717)")),
    "M9": ("Cancun BLOB_BASE_FEE_UPDATE_FRACTION + 1",
           Pattern("pyop/config/l1_chains.py", "CANCUN_BLOB_CONFIG = BlobConfig(target=3, max=6, update_fraction=3_338_477)",
                   "CANCUN_BLOB_CONFIG = BlobConfig(target=3, max=6, update_fraction=3_338_478)")),
    "M10": ("REGOLITH_SYSTEM_TX_GAS + 1",
            Pattern("pyop/protocol/l1_info.py", "REGOLITH_SYSTEM_TX_GAS = 1_000_000",
                    "REGOLITH_SYSTEM_TX_GAS = 1_000_001")),
    "M11": ("Jovian L1-info format already in the Jovian activation block",
            Pattern("pyop/protocol/l1_info.py",
                    "if cfg.is_jovian(l2_timestamp) and not cfg.is_jovian_activation_block(l2_timestamp):",
                    "if cfg.is_jovian(l2_timestamp):", "l1_info_format_at")),
    "M12": ("missing L1 blob base fee -> 0 instead of 1",
            Pattern("pyop/protocol/l1_info.py", "blob_base_fee=MIN_BLOB_GASPRICE if blob_fee is None",
                    "blob_base_fee=0 if blob_fee is None", "build_l1_block_info")),
    "M13": ("brotli channels accepted before Fjord",
            Pattern("pyop/codec/compression.py", "if not allow_brotli:", "if False:", "detect_compression")),
    "M14": ("brotli version byte 0x01 no longer recognized",
            Pattern("pyop/codec/compression.py", "if first_byte == CHANNEL_VERSION_BROTLI:",
                    "if first_byte == CHANNEL_VERSION_BROTLI + 1:", "detect_compression")),
    "M15": ("batcher: DEFAULT_BROTLI_QUALITY 10 -> 11 (not consensus)",
            Pattern("pyop/codec/compression.py", "DEFAULT_BROTLI_QUALITY = 10", "DEFAULT_BROTLI_QUALITY = 11")),
    "M16": ("batcher: DEFAULT_BROTLI_LGWIN 22 -> 24 (not consensus)",
            Pattern("pyop/codec/compression.py", "DEFAULT_BROTLI_LGWIN = 22", "DEFAULT_BROTLI_LGWIN = 24")),
    "M17": ("brotli compressor flush() returns nothing",
            Pattern("pyop/codec/compression.py", "out: bytes = self._c.flush()", "out: bytes = b''",
                    "flush")),
    "M18": ("zlib CM=15 no longer classified as zlib",
            Pattern("pyop/codec/compression.py", "if first_byte & 0x0F in (ZLIB_CM8, ZLIB_CM15):",
                    "if first_byte & 0x0F in (ZLIB_CM8,):", "detect_compression")),
    "M19": ("span overlap: tx content not compared",
            Pattern("pyop/derivation/batches.py", "if safe_txs[j + deposits] != tx:", "if False:",
                    "check_span_batch_overlap")),
    "M20": ("span overlap: tx count not compared",
            Pattern("pyop/derivation/batches.py", "if len(safe_txs) - deposits != len(batch_txs):",
                    "if False:", "check_span_batch_overlap")),
    "M21": ("span overlap: L1 origin not compared",
            Pattern("pyop/derivation/batches.py", "if origin_num != batch.batches[i].epoch_num:",
                    "if False:", "check_span_batch_overlap")),
    "M22": ("span overlap loop one block short",
            Pattern("pyop/derivation/batches.py", "for i in range(l2_safe_head.number - parent.number):",
                    "for i in range(l2_safe_head.number - parent.number - 1):", "check_span_batch_overlap")),
    "M23": ("span overlap check disabled",
            Pattern("pyop/derivation/batches.py", "if batch.first_timestamp() < next_ts:", "if False:",
                    "check_span_batch")),
    "M24": ("span prefix: parent check disabled (not in the audit's table)",
            Pattern("pyop/derivation/batches.py", "if not batch.check_parent_hash(parent.hash):",
                    "if False:", "check_span_batch_prefix")),
    "M25": ("span parent number off by one",
            Pattern("pyop/derivation/batches.py", "// cfg.block_time - 1", "// cfg.block_time - 2",
                    "check_span_batch_prefix")),
    "M26": ("span starting exactly at the safe head dropped as not aligned (`>` -> `>=`)",
            Pattern("pyop/derivation/batches.py", "if first_ts > l2_safe_head.timestamp:",
                    "if first_ts >= l2_safe_head.timestamp:", "check_span_batch_prefix")),
    "M27": ("span: the safe-head block itself re-checked (`<=` -> `<`)",
            Pattern("pyop/derivation/batches.py", "if el.timestamp <= l2_safe_head.timestamp:",
                    "if el.timestamp < l2_safe_head.timestamp:", "check_span_batch")),
    "M28": ("Jovian GasPriceOracle deployment gas + 1",
            Pattern("pyop/protocol/upgrades.py", "1_750_714, \"jovian-gas-price-oracle-deployment\"",
                    "1_750_715, \"jovian-gas-price-oracle-deployment\"")),
    "M29": ("singular batch: max sequencer drift `>` -> `>=`",
            Pattern("pyop/derivation/batches.py", "if batch.timestamp > max_ts:", "if batch.timestamp >= max_ts:",
                    "check_singular_batch")),
    "M30": ("channel timeout `<` -> `<=`",
            Pattern("pyop/derivation/channel_bank.py",
                    "ch.open_block_number + cfg.channel_timeout_at(origin.timestamp) < origin.number",
                    "ch.open_block_number + cfg.channel_timeout_at(origin.timestamp) <= origin.number",
                    "channel_timed_out")),
    "M31": ("Holocene activation block: SystemConfig eip1559Params instead of zeros",
            Pattern("pyop/derivation/attributes.py", 'return b"\\x00" * 8',
                    "return bytes(sys_cfg.eip1559_params)", "eip1559_params_for")),
    "M32": ("drift: next origin adoptable `>=` -> `>`",
            Pattern("pyop/derivation/batches.py", "if batch.timestamp >= nxt.timestamp:",
                    "if batch.timestamp > nxt.timestamp:", "check_singular_batch")),
    "M33": ("Fjord drift constant decided one second late",
            Pattern("pyop/config/rollup.py", "MAX_SEQUENCER_DRIFT_FJORD if self.is_fjord(l1_origin_ts)",
                    "MAX_SEQUENCER_DRIFT_FJORD if self.is_fjord(l1_origin_ts - 1)", "max_sequencer_drift_at")),
    "M34": ("Isthmus operator-fee scalar read at the wrong offset",
            Pattern("pyop/protocol/l1_info.py", "return _be(p, 20, 4), _be(p, 24, 8)",
                    "return _be(p, 19, 4), _be(p, 24, 8)", "operator_fee_params")),
    "M35": ("Holocene frame queue keeps a frame after its channel's closing frame (not in the audit's table)",
            Pattern("pyop/derivation/frame_queue.py", "if cur.is_last:", "if False:", "prune_frame_queue")),
    "M36": ("Holocene generated empty batch: concluding flag flipped",
            Pattern("pyop/derivation/batch_stage.py", "self._derive_next_empty_batch(True, parent), False",
                    "self._derive_next_empty_batch(True, parent), True", "next_batch",
                    alternatives=(("self._derive_next_empty_batch(True, parent), True",
                                   "self._derive_next_empty_batch(True, parent), False"),))),
    "M37": ("Holocene accepted batch: every batch concluding",
            Pattern("pyop/derivation/batch_stage.py", "return batch, not self.next_span", "return batch, True",
                    "next_batch")),
    "M38": ("Holocene accepted batch: never concluding",
            Pattern("pyop/derivation/batch_stage.py", "return batch, not self.next_span", "return batch, False",
                    "next_batch", alternatives=(("return batch, True", "return batch, False"),))),
}  # fmt: skip

EQUIVALENT: dict[str, str] = {
    "M18": "zlib CM=15 and an unknown version byte both raise ChannelError: the channel is dropped either way (audit)",
    "M27": "an element at exactly the safe-head timestamp is also covered by the overlap check (audit: near-equivalent)",
    "pyop/derivation/attributes_queue.py:next_attributes:816a2d7f:`False` -> `True`":
        "the flag is overwritten with the next batch's before it is read again (_batch is None)",
    "pyop/derivation/channel_assembler.py:next_data:73a872b2:`or` -> `and`":
        "unreachable: the loop ends only on the closing frame of an in-order channel, so it is ready",
    "pyop/derivation/data_source.py:recover_sender:c9aa9ab5:`==` -> `!=` (comparison 0)":
        "unreachable guard: an unprotected legacy tx has v 27/28 by definition (SignedTx.protected)",
    "pyop/derivation/batch_stage.py:next_batch:d28d4de5:`is not` -> `is` (comparison 0)":
        "_update_origins (called first) sets stage_origin to prev.origin: both branches are prev.origin",
    "pyop/protocol/deposit_log.py:deposit_tx_from_log:296a375c:`>` -> `>=` (comparison 0)":
        "a length of exactly 2**64-1 also fails `length > available` (no log has 2**64 bytes of data)",
    "pyop/protocol/l1_types.py:<module>:e2cf6cda:constant 0 -> 1":
        "Log.block_number is parsed from JSON but read by no code: its dataclass default is never observed",
    "pyop/protocol/system_config.py:decode_config_update_log:f48bb1cb:constant 16 -> 17":
        "uint(bits) checks 32 - bits // 8 padding bytes: 17 // 8 == 16 // 8, the same check",
    "pyop/derivation/altda_manager.py:advance_challenge_origin:117babb7:guard `if ...: raise/return` disabled#1":
        "the re-check after the unlocked receipt fetch only matters when two threads advance at once",
    "pyop/derivation/batch_queue.py:_span_to_singulars:fc169a0c:guard `if ...: raise/return` disabled":
        "dead code: _span_to_singulars is never called",
    "pyop/derivation/batch_stage.py:next_batch:78e5ea2a:`is` -> `is not` (comparison 0)":
        "unreachable under Holocene: check_singular_batch drops future batches (never FUTURE) and "
        "is UNDECIDED only with < 2 L1 blocks, which next_batch already refused",
    "pyop/derivation/batch_stage.py:_next_singular_batch_candidate:15d3c987:guard `if ...: raise/return` disabled":
        "unreachable: the Holocene span prefix check drops a future span batch (never FUTURE)",
    "pyop/derivation/batch_stage.py:_next_singular_batch_candidate:77f46cdd:`not x` -> `x`":
        "a non-empty span is then popped one step later (NotEnoughData, then the same block); an "
        "empty one is unreachable (SPAN_BATCH_NO_NEW_BLOCKS)",
    "pyop/derivation/channel_assembler.py:flush_channel:8a2582ef:`>` -> `>=` (comparison 0)":
        "a staged channel always holds its frame 0 (added when it is created): len >= 1",
    "pyop/derivation/data_source.py:recover_sender:c9aa9ab5:guard `if ...: raise/return` disabled":
        "unreachable guard: an unprotected legacy tx has v 27/28 by definition (SignedTx.protected)",
    "pyop/protocol/altda.py:decode_resolved_input:aa1decad:`<` -> `<=` (comparison 0)":
        "4 bytes of calldata then fail ABI decoding with the same AltDAFormatError",
    "pyop/protocol/trie.py:_branch:08136743:constant 16 -> 17":
        "int(c, 17) == int(c, 16) for every hex digit c",
    "pyop/protocol/l1_info.py:<module>:2e6826fe:constant 0 -> 1":
        "default of a field only Bedrock-format infos leave unset; their encoding and JSON omit it",
}
"""Mutant key -> why it is equivalent (not scored). Generated mutants are keyed as
``path:function:text-hash:description`` (printed by ``--list``)."""


@dataclass
class Mutant:
    id: str
    file: str
    line: int
    func: str
    description: str
    key: str
    new_source: str = field(repr=False, default="")
    status: str = "pending"
    killer: str = ""
    seconds: float = 0.0
    note: str = ""


# --------------------------------------------------------------------------- audit mutants


def _func_spans(tree: ast.AST, name: str) -> list[tuple[int, int]]:
    """Line spans of every function called ``name`` (methods of different classes too)."""
    return [(n.lineno, n.end_lineno or n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name]  # fmt: skip


OLD_LOCATIONS: dict[str, Pattern] = {
    "M8": Pattern("pyop/protocol/l1_info.py", "BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE = 5_007_716",
                  "BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE = 5_007_717"),
    "M9": Pattern("pyop/protocol/l1_info.py", "BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN = 3_338_477",
                  "BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN = 3_338_478"),
    # before the `rules` merge (08e37ab) the overlap loop was inside check_span_batch
    **{mid: dataclasses.replace(AUDIT[mid][1], func="check_span_batch") for mid in ("M19", "M20", "M21", "M22")},
}  # fmt: skip
"""Where an audit mutant's code lived before it moved (for ``--rev`` of an older revision):
tried when the pattern's file or function does not exist there."""


def audit_mutant(mid: str, desc: str, p: Pattern) -> Mutant:
    if not (SRC[0] / p.file).is_file():
        if mid in OLD_LOCATIONS:
            return audit_mutant(mid, desc, OLD_LOCATIONS.pop(mid))
        return Mutant(mid, p.file, 0, p.func, desc, mid, status="stale", note=f"no file {p.file}")
    moved = p.func and not _func_spans(ast.parse((SRC[0] / p.file).read_text()), p.func)
    if moved and mid in OLD_LOCATIONS:
        return audit_mutant(mid, desc, OLD_LOCATIONS.pop(mid))
    src = (SRC[0] / p.file).read_text()
    lines = src.splitlines(keepends=True)
    spans = [(1, len(lines))]
    if p.func:
        spans = sorted(_func_spans(ast.parse(src), p.func))
        if not spans:
            return Mutant(mid, p.file, 0, p.func, desc, mid, status="stale", note=f"no function {p.func}")
    for old, new in ((p.old, p.new), *p.alternatives):
        seen = 0
        for lo, hi in spans:
            for i in range(lo - 1, hi):
                if old in lines[i]:
                    if seen == p.nth:
                        mutated = [*lines[:i], lines[i].replace(old, new, 1), *lines[i + 1 :]]
                        return Mutant(mid, p.file, i + 1, p.func, desc, mid, "".join(mutated))
                    seen += 1
    return Mutant(mid, p.file, 0, p.func, desc, mid, status="stale",
                  note=f"pattern {p.old!r} not found (code changed)")  # fmt: skip


# --------------------------------------------------------------------------- generated mutants

_SKIP_FUNCS = {"explain", "__repr__", "__str__", "to_json", "summary", "short_hash", "_fmt_numbers"}
_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}  # fmt: skip
_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}  # fmt: skip


def _enclosing_functions(tree: ast.AST) -> dict[int, str]:
    """``id(node)`` -> name of the innermost function around it (``<module>`` outside)."""
    out: dict[int, str] = {}

    def walk(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            out[id(child)] = func
            walk(child, child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func)

    walk(tree, "<module>")
    return out


def _in_logging_or_drop(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Inside a call whose result is diagnostics only (log calls, f-strings, drop numbers)."""
    cur: ast.AST | None = node
    while cur is not None:
        if isinstance(cur, ast.JoinedStr):
            return True
        if isinstance(cur, ast.keyword) and cur.arg in ("numbers", "detail"):
            return True
        if isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute) and cur.func.attr in (
            "debug", "info", "warning", "error", "decide"):  # fmt: skip
            return True
        cur = parents.get(id(cur))
    return False


def _candidates(path: Path) -> Iterator[tuple[int, str, str, ast.AST, object]]:
    """``(line, function, description, node, replacement)`` for every mutation site."""
    src = path.read_text()
    tree = ast.parse(src)
    funcs = _enclosing_functions(tree)
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}  # fmt: skip
    # Decorator arguments (``@dataclass(frozen=True, slots=True)``) are declarations, not logic.
    decorators = {id(n) for d in ast.walk(tree)
                  if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  for dec in d.decorator_list for n in ast.walk(dec)}  # fmt: skip
    for node in ast.walk(tree):
        func = funcs.get(id(node), "<module>")
        if (func in _SKIP_FUNCS or id(node) in docstrings or id(node) in decorators
                or _in_logging_or_drop(node, parents)):  # fmt: skip
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                flip = _FLIP.get(type(op))
                if flip is not None:
                    yield line, func, f"`{_OPS[type(op)]}` -> `{_OPS[flip]}` (comparison {k})", node, ("cmp", k, flip)
        elif isinstance(node, ast.Constant) and type(node.value) is int and not isinstance(node.value, bool):
            par = parents.get(id(node))
            if isinstance(par, ast.Subscript | ast.Slice | ast.UnaryOp):
                continue
            yield line, func, f"constant {node.value} -> {node.value + 1}", node, ("const",)
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield line, func, f"`{node.value}` -> `{not node.value}`", node, ("bool",)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield line, func, "`not x` -> `x`", node, ("not",)
        elif isinstance(node, ast.BoolOp):
            new = "or" if isinstance(node.op, ast.And) else "and"
            yield line, func, f"`{'and' if new == 'or' else 'or'}` -> `{new}`", node, ("boolop",)
        elif isinstance(node, ast.If) and node.body and isinstance(node.body[0], ast.Raise | ast.Return):
            yield line, func, "guard `if ...: raise/return` disabled", node, ("guard",)


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, how: object) -> None:
        self.target_pos = (getattr(target, "lineno", 0), getattr(target, "col_offset", 0),
                           type(target).__name__)  # fmt: skip
        self.how = how
        self.done = False

    def _is_target(self, node: ast.AST) -> bool:
        return (getattr(node, "lineno", -1), getattr(node, "col_offset", -1),
                type(node).__name__) == self.target_pos  # fmt: skip

    def visit(self, node: ast.AST) -> ast.AST:
        if not self.done and self._is_target(node):
            self.done = True
            kind = self.how[0]  # type: ignore[index]
            if kind == "cmp":
                _, k, flip = self.how  # type: ignore[misc]
                node.ops[k] = flip()  # type: ignore[attr-defined]
            elif kind == "const":
                node.value = node.value + 1  # type: ignore[attr-defined]
            elif kind == "bool":
                node.value = not node.value  # type: ignore[attr-defined]
            elif kind == "not":
                return node.operand  # type: ignore[attr-defined, no-any-return]
            elif kind == "boolop":
                node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
            elif kind == "guard":
                node.test = ast.Constant(False)  # type: ignore[attr-defined]
            return node
        return self.generic_visit(node)


def generated_mutants(skip_sites: set[tuple[str, int]]) -> list[Mutant]:
    """Every generated mutant (source not built yet: :func:`build_source`); sites of the
    audit mutants (``skip_sites``, (file, line)) are left out."""
    out: list[Mutant] = []
    for target in TARGETS:
        for path in sorted((SRC[0] / target).glob("*.py")):
            rel = str(path.relative_to(SRC[0]))
            if rel in SKIP_FILES:
                continue
            lines = path.read_text().splitlines()
            seen: dict[str, int] = {}
            for line, func, desc, node, how in _candidates(path):
                if (rel, line) in skip_sites:
                    continue
                text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                base = f"{rel}:{func}:{hashlib.sha256(text.encode()).hexdigest()[:8]}:{desc}"
                n = seen[base] = seen.get(base, -1) + 1
                m = Mutant("", rel, line, func, f"{desc}: {text[:80]}", base + (f"#{n}" if n else ""))
                m.site = (line, getattr(node, "col_offset", 0), type(node).__name__, how)  # type: ignore[attr-defined]
                out.append(m)
    return out


def build_source(m: Mutant) -> None:
    """Fill ``m.new_source``: the module with the mutation applied, as ``ast.unparse`` prints it
    (comments and layout are lost, which does not change behaviour)."""
    line, col, kind, how = m.site  # type: ignore[attr-defined]
    tree = ast.parse((SRC[0] / m.file).read_text())
    target = next(n for n in ast.walk(tree)
                  if (getattr(n, "lineno", -1), getattr(n, "col_offset", -1), type(n).__name__)
                  == (line, col, kind))  # fmt: skip
    new_tree = _Apply(target, how).visit(tree)
    ast.fix_missing_locations(new_tree)
    m.new_source = ast.unparse(new_tree) + "\n"


# --------------------------------------------------------------------------- running


IGNORE: list[str] = []
"""Test files left out (``--ignore``), e.g. to measure the suite as it was before new tests."""


def _pytest_cmd(shadow: Path, first: str, *, stop_first: bool = True, deselect: tuple[str, ...] = ()) -> list[str]:
    order = sorted(FAST_SUITE, key=lambda t: 0 if t.startswith(first) else 1)
    boot = (f"import sys; sys.path.insert(0, {str(shadow)!r}); import pyop; "
            f"assert pyop.__file__.startswith({str(shadow)!r}), pyop.__file__; "
            "import pytest; sys.exit(pytest.main(sys.argv[1:]))")  # fmt: skip
    return [sys.executable, "-c", boot, *(["-x"] if stop_first else []), "-q", "-p", "no:cacheprovider",
            "--no-header", "-o", "addopts=", "--tb=no", "-rfE",
            *[a for t in deselect for a in ("--deselect", t)], *[f"--ignore={p}" for p in IGNORE],
            *order]  # fmt: skip


def _run(shadow: Path, first: str, timeout: float, *, stop_first: bool = True,
         deselect: tuple[str, ...] = ()) -> tuple[str, list[str], float]:  # fmt: skip
    """Run the fast suite: ``(status, failing test ids, seconds)``; status ``survived`` (all
    passed), ``killed`` (a test failed, or the time budget ran out) or ``error``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    t0 = time.monotonic()
    try:
        r = subprocess.run(_pytest_cmd(shadow, first, stop_first=stop_first, deselect=deselect),
                           cwd=shadow, env=env, capture_output=True, text=True, timeout=timeout,
                           check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "killed", ["(time budget exceeded)"], time.monotonic() - t0
    dt = time.monotonic() - t0
    if r.returncode == 0:
        return "survived", [], dt
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", r.stdout, re.M)
    if r.returncode == 1:
        return "killed", failed or ["(a test failed)"], dt
    return "error", [(r.stdout + r.stderr)[-400:]], dt


def make_shadow(rev: str | None = None) -> Path:
    """A private copy to mutate: ``<tmp>/repo/{pyop,tests}`` (from the working tree, or from
    git revision ``rev``; either way, edits to the checkout during a run change nothing),
    ``spec_vectors`` and ``pyproject.toml`` linked/copied, and ``<tmp>/shared`` linked to the
    checkout's ``../shared`` (the shared vectors)."""
    tmp = Path(tempfile.mkdtemp(prefix="pyop-mutation-"))
    repo = tmp / "repo"
    repo.mkdir()
    if rev is None:
        ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
        shutil.copytree(REPO / "pyop", repo / "pyop", ignore=ignore)
        shutil.copytree(REPO / "tests", repo / "tests", ignore=ignore)
        (repo / "spec_vectors").symlink_to(REPO / "spec_vectors")
    else:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "pyop", "tests", "spec_vectors"],
                                 capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    if (REPO.parent / "shared").is_dir():
        (tmp / "shared").symlink_to(REPO.parent / "shared")
    return repo


def run_mutants(shadow: Path, mutants: list[Mutant], timeout_factor: float) -> tuple[float, list[str]]:
    """Run every pending mutant in ``shadow``; returns the baseline time and the tests that
    already fail without a mutant (deselected for the mutant runs, and reported)."""
    try:
        status, failing, base = _run(shadow, "tests/derivation", 3600, stop_first=False)
        if status == "error":
            raise SystemExit(f"the fast suite does not run: {failing[0]}")
        broken = tuple(t for t in failing if "::" in t)
        if status == "killed" and not broken:
            raise SystemExit("the fast suite fails without any mutant and names no test")
        if broken:
            print(f"WARNING: {len(broken)} tests fail without any mutant; deselected: {', '.join(broken)}",
                  flush=True)  # fmt: skip
            status, failing, base = _run(shadow, "tests/derivation", 3600, deselect=broken)
            if status != "survived":
                raise SystemExit(f"the fast suite still fails after deselecting: {failing}")
        print(f"baseline: fast suite passes in {base:.1f}s", flush=True)
        budget = timeout_factor * base + 30
        for m in mutants:
            if m.status != "pending":
                continue
            target = shadow / m.file
            original = target.read_text()
            target.write_text(m.new_source)
            try:
                first = "tests/derivation" if "/derivation/" in m.file else (
                    "tests/protocol" if "/protocol/" in m.file else "tests/codec")  # fmt: skip
                m.status, killers, m.seconds = _run(shadow, first, budget, deselect=broken)
                m.killer = killers[0] if killers else ""
            finally:
                target.write_text(original)
            if m.key in EQUIVALENT and m.status == "survived":
                m.status, m.note = "equivalent", EQUIVALENT[m.key]
            print(f"{m.id:>5} {m.status:<10} {m.seconds:5.1f}s {m.file}:{m.line} {m.description}"
                  + (f"  <- {m.killer}" if m.killer else ""), flush=True)  # fmt: skip
        return base, list(broken)
    finally:
        shutil.rmtree(shadow.parent, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated mutant ids (M3,G12,...)")
    p.add_argument("--generated", type=int, default=100, help="generated mutants to sample (-1: all)")
    p.add_argument("--seed", type=int, default=8, help="sampling seed")
    p.add_argument("--no-audit", action="store_true", help="skip M1-M38")
    p.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    p.add_argument("--timeout-factor", type=float, default=3.0,
                   help="a mutant run longer than this x the baseline + 30 s counts as killed")  # fmt: skip
    p.add_argument("--report", default=str(REPO / "out" / "mutation-report.json"))
    p.add_argument("--ignore", default="", help="comma-separated test files to leave out")
    p.add_argument("--rev", help="take pyop/, tests/ and spec_vectors/ from this git revision "
                   "(e.g. main, for the score before new tests)")  # fmt: skip
    args = p.parse_args()
    IGNORE.extend(x for x in args.ignore.split(",") if x)
    shadow = make_shadow(args.rev)
    SRC[0] = shadow

    mutants: list[Mutant] = []
    if not args.no_audit:
        for mid, (desc, pat) in AUDIT.items():
            mutants.append(audit_mutant(mid, desc, pat))
    if args.generated:
        sites = {(m.file, m.line) for m in mutants if m.line}
        gen = generated_mutants(sites)
        print(f"{len(gen)} generated mutation sites in {', '.join(TARGETS)}", flush=True)
        if 0 < args.generated < len(gen):
            gen = sorted(random.Random(args.seed).sample(gen, args.generated), key=lambda m: (m.file, m.line))
        for i, m in enumerate(gen, 1):
            m.id = f"G{i}"
            build_source(m)
        mutants += gen
    if args.only:
        want = set(args.only.split(","))
        mutants = [m for m in mutants if m.id in want]
    if args.list:
        for m in mutants:
            print(f"{m.id:>5} {m.status:<8} {m.file}:{m.line} [{m.func}] {m.description}\n      key {m.key}")
        shutil.rmtree(shadow.parent, ignore_errors=True)
        return 0
    base, broken = run_mutants(shadow, mutants, args.timeout_factor)
    scored = [m for m in mutants if m.status in ("killed", "survived")]
    killed = [m for m in scored if m.status == "killed"]
    summary = {
        "baselineSeconds": round(base, 1),
        "deselectedFailingWithoutMutant": broken,
        "killed": len(killed), "survived": len(scored) - len(killed),
        "equivalent": sum(m.status == "equivalent" for m in mutants),
        "stale": sum(m.status == "stale" for m in mutants),
        "error": sum(m.status == "error" for m in mutants),
        "score": round(len(killed) / len(scored), 3) if scored else None,
        "survivors": [f"{m.id} {m.file}:{m.line} {m.description}" for m in mutants if m.status == "survived"],
    }  # fmt: skip
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"summary": summary, "mutants": [
        {k: v for k, v in asdict(m).items() if k != "new_source"} for m in mutants]}, indent=1) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
