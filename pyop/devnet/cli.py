"""``pyop devnet init|up|down|status``: the command-line face of :mod:`pyop.devnet.stack`.

``pyop/cli.py`` adds the ``devnet`` subcommand with :func:`add_devnet_parser`; each action
returns an exit status and raises :class:`pyop.primitives.PyopError` for bad input.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyop.devnet.stack import (
    DA_TYPES,
    STACKS,
    VERIFIER_KINDS,
    StackError,
    init_devnet,
    load_devnet,
    parse_fork_offsets,
    run_foreground,
    start_stack,
    stop_devnet,
)
from pyop.primitives import PyopError


def _cmd_init(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    info = init_devnet(
        Path(args.dir),
        l1_url=args.l1,
        l1_block_time=args.l1_block_time,
        fork_offsets=parse_fork_offsets(args.fork_offsets),
        altda=args.altda,
        port_base=args.port_base,
        fault_proofs=args.fault_proofs,
    )
    print(f"L1      {info.l1_url}")
    print(f"L2 RPC  {info.l2_rpc_url} (after `pyop devnet up`)")
    print(f"rollup  {info.rollup_rpc_url} (after `pyop devnet up --stack go`)")
    forks = ", ".join(f"{k}@{v}" for k, v in info.fork_times.items() if v is not None)
    print(f"forks   {forks}")
    print(f"init took {time.monotonic() - t0:.1f}s; next: pyop devnet up {args.dir} --stack go")
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    info = load_devnet(Path(args.dir))
    if args.altda and not info.altda:
        raise StackError("this devnet was initialized without --altda (its rollup.json has no "
                         "alt_da section); re-create it with `pyop devnet init --altda`")
    from pyop.devnet.roles import resolve_roles

    roles = None
    if args.stack != "none":
        roles = resolve_roles(args.stack, node=args.node, batcher=args.batcher,
                              proposer=args.proposer)  # fmt: skip
    elif args.node or args.batcher or args.proposer:
        raise StackError("--stack none starts op-geth only; drop --node/--batcher/--proposer")
    t0 = time.monotonic()
    stack = start_stack(info, stack=args.stack, da=args.da, roles=roles)
    if args.verifier:
        from pyop.devnet.verifier import start_verifier

        try:
            v = start_verifier(info, kind=args.verifier)
        except BaseException:
            stack.stop()
            raise
        stack.processes[v.op_geth.process.name] = v.op_geth.process
        stack.processes[v.op_node.name] = v.op_node
    print(f"up took {time.monotonic() - t0:.1f}s")
    print(f"L1        {info.l1_url}")
    print(f"L2 RPC    {info.l2_rpc_url}")
    print(f"L2 engine {info.url('gethAuth')} (JWT {info.jwt_path})")
    if roles is not None:
        print(f"rollup    {info.rollup_rpc_url}")
        print("roles     " + ", ".join(f"{r}={roles.kind(r)}" for r in ("node", "batcher", "proposer")))
    if info.altda:
        print(f"DA server {info.url('daServer')}")
    if args.verifier:
        print(f"verifier  {args.verifier}: rollup {info.verifier_rollup_rpc_url}, L2 RPC {info.verifier_l2_rpc_url}")
    print("logs:")
    for name, path in stack.log_paths().items():
        print(f"  {name:<12} {path}")
    if args.detach:
        print(f"running in the background; stop with: pyop devnet down {args.dir}")
        return 0
    print("Ctrl-C stops the stack (anvil keeps running; `pyop devnet down` stops everything)")
    return run_foreground(stack)


def _cmd_down(args: argparse.Namespace) -> int:
    outcomes = stop_devnet(Path(args.dir))
    if not outcomes:
        print("nothing registered to stop")
    for name, how in outcomes.items():
        print(f"{name:<18} {how}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from pyop.devnet.compare import side_by_side
    from pyop.devnet.roles import role_lines
    from pyop.devnet.status import devnet_status, format_table, process_lines
    from pyop.devnet.verifier import devnet_verifier_kind, sequencer_endpoints, verifier_endpoints

    info = load_devnet(Path(args.dir))
    print(format_table(devnet_status(info)))
    kind = devnet_verifier_kind(info)
    if kind is not None:
        print()
        print("\n".join(side_by_side(sequencer_endpoints(info), verifier_endpoints(info, kind))))
    from pyop.devnet.withdrawals import (
        format_proposal,
        format_withdrawal,
        latest_proposal,
        withdrawal_status,
    )

    print()
    try:
        print(format_proposal(latest_proposal(info)))
    except (PyopError, KeyError) as e:
        print(f"latest proposal: unavailable ({e})")
    if args.withdrawal:
        print(format_withdrawal(withdrawal_status(info, args.withdrawal)))
    roles = role_lines(info.directory)
    if roles:
        print()
        print("\n".join(roles))
    procs = process_lines(info)
    if procs:
        print()
        print("\n".join(procs))
    return 0


def add_devnet_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devnet`` (with ``init``, ``up``, ``down``, ``status``) to ``pyop``'s subcommands."""
    p = sub.add_parser(
        "devnet",
        help="a local OP Stack devnet: anvil L1, L1 contracts, op-geth, Go op-node/batcher/proposer",
        description="Create and run a local OP Stack devnet in a directory. All keys are public "
        "TEST keys; everything listens on 127.0.0.1.",
    )
    acts = p.add_subparsers(dest="devnet_command", required=True, metavar="ACTION")

    i = acts.add_parser("init", help="start anvil, deploy the L1 contracts, write genesis/rollup",
                        description="Initialize a devnet in DIR (new or empty).")  # fmt: skip
    i.add_argument("dir", metavar="DIR")
    i.add_argument("--l1", metavar="URL", help="use this L1 instead of starting anvil")
    i.add_argument("--l1-block-time", type=int, default=2, metavar="SECONDS")
    i.add_argument("--fork-offsets", metavar="FORK=S,...",
                   help="seconds after L2 genesis per fork, e.g. isthmus=40,jovian=60 "
                   "(default: through Holocene at genesis, isthmus=180, jovian=300)")  # fmt: skip
    i.add_argument("--altda", action="store_true", help="alt-DA with generic commitments")
    i.add_argument("--fault-proofs", action="store_true",
                   help="OptimismPortal2 + DisputeGameFactory with a permissioned dispute game "
                   "(short clocks) instead of the L2OutputOracle")  # fmt: skip
    i.add_argument("--port-base", type=int, metavar="N",
                   help="use ports N, N+1, ... (default: free ports)")  # fmt: skip
    i.set_defaults(func=_cmd_init)

    u = acts.add_parser("up", help="start op-geth (and the Go op-node, op-batcher, op-proposer)",
                        description="Start the L2 stack of an initialized devnet.")  # fmt: skip
    u.add_argument("dir", metavar="DIR")
    u.add_argument("--stack", choices=STACKS, default="go",
                   help="the kind of every role: go (Go op-node/op-batcher/op-proposer), pyop "
                   "(pyop node/batcher/proposer), none (op-geth only)")  # fmt: skip
    for role, go in (("node", "op-node"), ("batcher", "op-batcher"), ("proposer", "op-proposer")):
        u.add_argument(f"--{role}", choices=("go", "pyop"), default=None,
                       help=f"run the {role} as the Go {go} or pyop {role} (overrides --stack)")
    u.add_argument("--da", choices=DA_TYPES, default="calldata",
                   help="batcher data availability (auto: by the L1 blob vs calldata price)")
    u.add_argument("--altda", action="store_true", help="(the devnet must be init'ed --altda)")
    u.add_argument("--verifier", choices=VERIFIER_KINDS, default=None,
                   help="also start a verifier of this kind on a second op-geth (the differential "
                   "devnet; `pyop devnet status` shows both nodes' heads side by side)")  # fmt: skip
    u.add_argument("--detach", action="store_true", help="return once started")
    u.set_defaults(func=_cmd_up)

    d = acts.add_parser("down", help="stop every process of the devnet (anvil included)")
    d.add_argument("dir", metavar="DIR")
    d.set_defaults(func=_cmd_down)

    s = acts.add_parser("status", help="L1 and L2 heads (head/safe/finalized) as a table, the "
                        "latest output proposal, and a withdrawal's state")  # fmt: skip
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--withdrawal", metavar="HASH",
                   help="also show where this withdrawal is (withdrawal hash or the L2 tx hash): "
                   "initiated, provable, proven, finalizable, finalized")  # fmt: skip
    s.set_defaults(func=_cmd_status)
