"""The ``pyop`` command: one entry point, a subcommand per service and tool.

Errors in the input end the command with exit status 1 and one line on stderr saying what is
wrong (and, for wire data, at which byte offset); never a Python traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pyop import __version__
from pyop.primitives import PyopError


def _load_config(args: argparse.Namespace) -> Any:
    from pyop.config import load_rollup_config, network_config

    if getattr(args, "network", None) and getattr(args, "rollup_config", None):
        raise PyopError("give either --network or --rollup-config, not both")
    if getattr(args, "network", None):
        return network_config(args.network)
    if getattr(args, "rollup_config", None):
        return load_rollup_config(args.rollup_config)
    return None


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, indent=2))
    sys.stdout.write("\n")


def _cmd_decode(args: argparse.Namespace) -> int:
    from pyop.tools import decode as d
    from pyop.tools.inputs import read_input

    kind: str = args.kind
    if kind in ("l1-info", "deposit-tx"):
        data = read_input(args.input, allow_inline_hex=True)
        if not data:
            raise d.DecodeError("empty input")
        _print_json(d.decode_l1_info_input(data) if kind == "l1-info" else d.decode_deposit_input(data))
        return 0
    opts = d.DecodeOptions(config=_load_config(args), with_txs=args.txs, block_time=args.block_time)
    data = read_input(args.input)
    if kind == "calldata":
        _print_json(d.decode_calldata(data, opts))
    elif kind == "blob":
        _print_json(d.decode_blob_json(data, opts))
    elif kind == "channel":
        if not data:
            raise d.DecodeError("empty input")
        _print_json(d.channel_json(data, opts))
    return 0


def _add_decode(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "decode",
        help="decode batcher data, blobs, channels, L1-info and deposit txs to JSON",
        description="Decode OP Stack wire data to one JSON document on stdout. Input is a file "
        "or '-' for stdin, raw bytes or hex text (0x optional).",
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    helps = {
        "calldata": "batcher calldata, or a whole signed L1 transaction (its data is used)",
        "blob": "one 131072-byte blob",
        "channel": "the concatenated frame data of one channel",
        "l1-info": "an L1-info deposit: its calldata or the whole tx (0x-hex string or file)",
        "deposit-tx": "any deposit transaction (0x7e...; 0x-hex string or file)",
    }
    for name, h in helps.items():
        k = kinds.add_parser(name, help=h, description=h)
        k.add_argument("input", metavar="FILE" if name in ("calldata", "blob", "channel") else "HEX")
        if name in ("calldata", "blob", "channel"):
            g = k.add_mutually_exclusive_group()
            g.add_argument("--network", help="network preset (makes span timestamps absolute)")
            g.add_argument("--rollup-config", help="rollup.json (makes span timestamps absolute)")
            k.add_argument("--txs", action="store_true", help="add each transaction's hash")
            k.add_argument(
                "--block-time",
                type=int,
                default=2,
                help="L2 block time for relative span timestamps without a config (default 2)",
            )
    p.set_defaults(func=_cmd_decode)


def _cmd_networks(args: argparse.Namespace) -> int:
    from pyop.config import network_names

    for n in network_names():
        print(n)
    return 0


def _add_endpoint_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--l1", required=required, metavar="URL", help="L1 execution JSON-RPC")
    p.add_argument("--l1.beacon", dest="l1_beacon", metavar="URL",
                   help="L1 beacon API (or anvil) for blobs")  # fmt: skip
    p.add_argument("--l2", required=required, metavar="URL", help="L2 execution (op-geth) JSON-RPC")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--network", help="network preset (see `pyop networks`)")
    g.add_argument("--rollup-config", metavar="FILE", help="rollup.json")
    p.add_argument("--rollup.l1-chain-config", dest="l1_chain_config", metavar="FILE",
                   help="L1 chain config (go-ethereum ChainConfig JSON with a blobSchedule); "
                        "required for an L1 other than mainnet, Sepolia, Holesky, Hoodi, as for "
                        "op-node")  # fmt: skip
    p.add_argument("--from-l2", type=int, metavar="A", help="first L2 block to derive")
    p.add_argument("--to-l2", type=int, metavar="B", help="last L2 block to derive")
    p.add_argument("--l1-margin", type=int, metavar="N",
                   help="L1 blocks after the L1 origin of B to record (default: the sequencing "
                        "window)")  # fmt: skip
    p.add_argument("--rpc-batch", type=int, default=50, metavar="N",
                   help="max JSON-RPC batch size (default 50)")  # fmt: skip
    p.add_argument("--no-verify", action="store_true",
                   help="skip block hash / transactions / receipts root checks (dev chains)")


def _capture(args: argparse.Namespace) -> Any:
    import asyncio

    from pyop.config.l1_chains import l1_blob_schedule_from_json, resolve_l1_blob_schedule
    from pyop.sources.beacon import AsyncBeaconClient
    from pyop.sources.l1 import AsyncL1Client
    from pyop.sources.l2 import AsyncL2Client
    from pyop.sources.rpc import AsyncHTTPClient, AsyncRPCClient
    from pyop.tools.capture import capture_fixture

    cfg = _load_config(args)
    if cfg is None:
        raise PyopError("give --network or --rollup-config")
    if args.from_l2 is None or args.to_l2 is None:
        raise PyopError("give --from-l2 and --to-l2")
    l1_chain_config = _l1_chain_config(args)
    # op-node NewL1ChainConfig: refuse an unknown L1 without a blob schedule before any work.
    resolve_l1_blob_schedule(
        cfg.l1_chain_id,
        None if l1_chain_config is None else l1_blob_schedule_from_json(l1_chain_config, args.l1_chain_config),
    )  # fmt: skip

    def progress(msg: str) -> None:
        print(f"pyop {args.command}: {msg}", file=sys.stderr, flush=True)

    async def run() -> Any:
        verify = not args.no_verify
        l1 = AsyncL1Client(AsyncRPCClient(args.l1, max_batch=args.rpc_batch), verify=verify)
        l2 = AsyncL2Client(AsyncRPCClient(args.l2, max_batch=args.rpc_batch), cfg, verify=verify)
        beacon = AsyncBeaconClient(AsyncHTTPClient(args.l1_beacon)) if args.l1_beacon else None
        try:
            return await capture_fixture(cfg, l1, l2, beacon, args.from_l2, args.to_l2,
                                         l1_margin=args.l1_margin, progress=progress)  # fmt: skip
        finally:
            await l1.close()
            await l2.close()
            if beacon is not None:
                await beacon.close()

    fx = asyncio.run(run())
    fx.l1_chain_config = l1_chain_config
    return fx


def _l1_chain_config(args: argparse.Namespace) -> dict[str, object] | None:
    """The ``--rollup.l1-chain-config`` file as a chain config object (a genesis file's
    ``config``), kept verbatim in the fixture (``pyopL1ChainConfig``)."""
    from pathlib import Path

    if not getattr(args, "l1_chain_config", None):
        return None
    try:
        obj = json.loads(Path(args.l1_chain_config).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise PyopError(f"--rollup.l1-chain-config {args.l1_chain_config}: {e}") from None
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict) and "chainId" not in obj:
        obj = obj["config"]
    if not isinstance(obj, dict):
        raise PyopError(f"--rollup.l1-chain-config {args.l1_chain_config}: not a chain config object")
    return obj


def _cmd_capture(args: argparse.Namespace) -> int:
    from pyop.tools.fixture import save_fixture

    fx = _capture(args)
    save_fixture(fx, args.output)
    print(f"pyop capture: wrote {args.output} ({len(fx.l1_blocks)} L1 blocks, "
          f"L2 {fx.l2_cursor_start + 1}..{fx.l2_cursor_end})", file=sys.stderr)  # fmt: skip
    return 0


def _add_capture(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "capture",
        help="record a derivation fixture of an L2 range from live endpoints",
        description="Record everything derivation of L2 blocks A..B needs (L1 headers, txs, "
        "receipts, blobs; the L2 safe head A-1, history and reference blocks) as a derivation "
        "fixture JSON (ethereum-optimism/tests layout + pyop additions).",
    )
    _add_endpoint_args(p, required=True)
    p.add_argument("-o", "--output", required=True, metavar="FIXTURE.json")
    p.set_defaults(func=_cmd_capture)


def _cmd_derive(args: argparse.Namespace) -> int:
    from pyop.tools.derive import run_derive
    from pyop.tools.fixture import load_fixture

    if args.fixture:
        if args.l1 or args.l2:
            raise PyopError("give either --fixture or --l1/--l2 endpoints, not both")
        fx = load_fixture(args.fixture)
        l1cc = _l1_chain_config(args)
        if l1cc is not None:
            fx.l1_chain_config = l1cc
    else:
        if not (args.l1 and args.l2):
            raise PyopError("give --fixture FILE, or --l1 and --l2 endpoints")
        fx = _capture(args)
    res = run_derive(fx, check=args.check, explain=args.explain)
    if args.check and not res.ok:
        return 1
    return 0


def _add_derive(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "derive",
        help="run the derivation pipeline over a fixture (or live endpoints)",
        description="Derive L2 payload attributes and print one JSON line per block. With "
        "--check compare each with the reference L2 block (exit 1 on a mismatch); with "
        "--explain print every drop and rule decision on stderr.",
    )
    p.add_argument("--fixture", metavar="FIXTURE.json", help="a derivation fixture")
    _add_endpoint_args(p, required=False)
    p.add_argument("--check", action="store_true", help="compare with the reference blocks")
    p.add_argument("--explain", action="store_true", help="print drops and decisions on stderr")
    p.set_defaults(func=_cmd_derive)


def _cmd_difftest(args: argparse.Namespace) -> int:
    from pyop.tools.difftest.cli import main as difftest_main

    return difftest_main(args)


def _add_difftest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pyop.tools.difftest.cli import add_arguments

    p = sub.add_parser(
        "difftest",
        help="differential fuzzing of pyop against the Go op-node's own functions",
        description="Run pyop's function and op-node v1.19.6's (through the Go peer "
        "interop/go/difftest) on the same generated inputs and compare their canonical JSON "
        "results. Ends each target with 'TARGET: N inputs, D divergences (K known)'; exits 1 on "
        "an unexplained divergence (written, shrunk, under spec_vectors/divergences/).",
    )
    add_arguments(p)
    p.set_defaults(func=_cmd_difftest)


def _add_devnet(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pyop.devnet.cli import add_devnet_parser

    add_devnet_parser(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyop", description="pyop: a Python OP Stack rollup node")
    parser.add_argument("--version", action="version", version=f"pyop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_decode(sub)
    _add_capture(sub)
    _add_derive(sub)
    _add_difftest(sub)
    _add_devnet(sub)
    # `pyop node` takes op-node's Go-style flags; main() hands them to pyop.node.service as-is
    sub.add_parser("node", help="run the rollup node (op-node flags; see `pyop node --help`)",
                   add_help=False)  # fmt: skip
    sub.add_parser("proposer", help="post output roots to L1 (op-proposer flags; see `pyop "
                   "proposer --help`)", add_help=False)  # fmt: skip
    sub.add_parser("batcher", help="run the batch submitter (op-batcher flags; see "
                   "`pyop batcher --help`)", add_help=False)  # fmt: skip
    n = sub.add_parser("networks", help="list the network presets usable with --network")
    n.set_defaults(func=_cmd_networks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["node"]:
        from pyop.node.service import main as node_main

        return node_main(raw[1:])
    if raw[:1] == ["proposer"]:
        from pyop.proposer.service import main as proposer_main

        return proposer_main(raw[1:])
    if raw[:1] == ["batcher"]:
        from pyop.batcher.service import main as batcher_main

        return batcher_main(raw[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except PyopError as e:
        print(f"pyop {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug, not bad input: still one line (PYOP_DEBUG=1 shows the trace)
        if os.environ.get("PYOP_DEBUG"):
            raise
        print(f"pyop {args.command}: internal error (please report): {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
