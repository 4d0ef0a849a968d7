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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyop", description="pyop: a Python OP Stack rollup node")
    parser.add_argument("--version", action="version", version=f"pyop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_decode(sub)
    n = sub.add_parser("networks", help="list the network presets usable with --network")
    n.set_defaults(func=_cmd_networks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
