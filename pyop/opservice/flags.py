"""Go-style command-line flags with ``OP_<SERVICE>_*`` environment variables.

The OP Stack services take their flags through urfave/cli v2 (op-service ``cliapp``): each flag
has a name, a value kind, a default and environment variables, ``OP_BATCHER_`` + an upper-case
name for op-batcher. Precedence is flag > environment variable > default. Syntax as urfave/cli
parses it: ``--flag=value``, ``--flag value``, ``-flag`` (one dash works too); a boolean flag
alone means true and takes a value only as ``--flag=true|false`` (Go ``strconv.ParseBool``);
durations as Go's ``time.ParseDuration`` writes them (``500ms``, ``1s``, ``2m``, ``1h30m``); a
string-list flag (``cli.StringSliceFlag``) may be repeated or take a comma-separated list.

A flag a service does not know is refused by name: ``flag --foo is not supported by pyop
batcher``. :func:`parse_flags` returns a :class:`ParsedFlags` (values by destination name plus
where each came from); each service turns it into its own frozen config dataclass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pyop.primitives import PyopError

Kind = Literal["string", "strings", "int", "uint", "float", "bool", "duration"]

__all__ = [
    "FlagError",
    "FlagSpec",
    "HelpRequested",
    "ParsedFlags",
    "flag",
    "help_text",
    "parse_bool",
    "parse_duration",
    "parse_flags",
]


class FlagError(PyopError):
    """A bad command line or environment (the message names the flag or variable)."""


class HelpRequested(PyopError):
    """``--help`` / ``-h``: the message is the help text."""


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One flag: its name (without dashes), value kind, default, environment variable names
    (without the service prefix), usage line, and the name of the field it sets."""

    name: str
    kind: Kind
    default: object
    envs: tuple[str, ...]
    usage: str
    dest: str

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"


def flag(name: str, kind: Kind, default: object, env: str | tuple[str, ...], usage: str,
         *, dest: str | None = None) -> FlagSpec:  # fmt: skip
    """A :class:`FlagSpec`; ``dest`` defaults to the name with ``.`` and ``-`` as ``_``."""
    envs = (env,) if isinstance(env, str) else tuple(env)
    return FlagSpec(name, kind, default, envs, usage,
                    dest or name.replace(".", "_").replace("-", "_"))  # fmt: skip


_BOOL_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_BOOL_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_DUR = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_bool(text: str, what: str) -> bool:
    """Go ``strconv.ParseBool``."""
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    raise FlagError(f"{what}: invalid boolean value {text!r}")


def parse_duration(text: str, what: str) -> float:
    """Go ``time.ParseDuration`` in seconds (a bare number also means seconds)."""
    t = text.strip()
    if re.fullmatch(r"\d+(\.\d*)?", t):
        return float(t)
    pos = 0
    total = 0.0
    for m in _DUR.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DUR_UNIT[m.group(2)]
        pos = m.end()
    if pos != len(t) or not t:
        raise FlagError(f"{what}: invalid duration {text!r}")
    return total


def _convert(spec: FlagSpec, text: str, what: str) -> object:
    if spec.kind == "bool":
        return parse_bool(text, what)
    if spec.kind in ("int", "uint"):
        try:
            v = int(text.strip(), 10)
        except ValueError:
            raise FlagError(f"{what}: invalid integer {text!r}") from None
        if spec.kind == "uint" and v < 0:
            raise FlagError(f"{what}: must not be negative, got {v}")
        return v
    if spec.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise FlagError(f"{what}: invalid number {text!r}") from None
    if spec.kind == "duration":
        return parse_duration(text, what)
    if spec.kind == "strings":
        return tuple(s.strip() for s in text.split(",") if s.strip())
    return text


@dataclass(frozen=True, slots=True)
class ParsedFlags:
    """The result of :func:`parse_flags`: ``values`` by destination (every flag, defaults
    included) and ``sources`` (``flag`` or ``env``) for those that were given."""

    values: Mapping[str, object]
    sources: Mapping[str, str] = field(default_factory=dict)

    def given(self, dest: str) -> bool:
        return dest in self.sources


def help_text(service: str, description: str, specs: Sequence[FlagSpec], env_prefix: str) -> str:
    """The ``--help`` text: one entry per flag with its default and environment variable."""
    lines = [f"usage: {service} [flags]", "", description, ""]
    for f in specs:
        arg = "" if f.is_bool else f" {f.kind.upper()}"
        dflt = "" if f.default in ("", False, (), None) else f" (default: {f.default})"
        env = f" [${env_prefix}{f.envs[0]}]" if f.envs else ""
        lines.append(f"  --{f.name}{arg}\n        {f.usage}{dflt}{env}")
    return "\n".join(lines)


def parse_flags(
    argv: Sequence[str],
    specs: Sequence[FlagSpec],
    *,
    env_prefix: str,
    service: str,
    env: Mapping[str, str] | None = None,
    description: str = "",
    unsupported: Mapping[str, str] | None = None,
) -> ParsedFlags:
    """Parse ``argv`` and the ``env_prefix``-ed environment variables against ``specs``.

    Raises :class:`FlagError` naming the offending flag (an unknown flag: "flag --x is not
    supported by <service>", with the reason from ``unsupported`` (flag name prefix -> reason)
    for flags the Go service has and this one refuses) or :class:`HelpRequested`.
    """

    def norm(x: str) -> str:
        return x.lower().replace(".", "_").replace("-", "_")

    def refuse(what: str, name: str) -> FlagError:
        why = next((r for pre, r in (unsupported or {}).items()
                    if norm(name).startswith(norm(pre))), "")  # fmt: skip
        return FlagError(f"{what} is not supported by {service}" + (f": {why}" if why else ""))

    by_name = {s.name: s for s in specs}
    environ = os.environ if env is None else env
    values: dict[str, object] = {s.dest: s.default for s in specs}
    sources: dict[str, str] = {}
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-h", "--help", "-help"):
            raise HelpRequested(help_text(service, description, specs, env_prefix))
        if arg == "--":
            if i < len(args):
                raise FlagError(f"unexpected argument {args[i]!r} ({service} takes only flags)")
            break
        if not arg.startswith("-") or arg == "-":
            raise FlagError(f"unexpected argument {arg!r} ({service} takes only flags)")
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = body.partition("=")
        spec = by_name.get(name)
        if spec is None:
            raise refuse(f"flag --{name}", name)
        what = f"flag --{name}"
        if spec.is_bool:
            val: object = parse_bool(value, what) if eq else True
        else:
            if not eq:
                if i >= len(args):
                    raise FlagError(f"{what} needs a value")
                value = args[i]
                i += 1
            val = _convert(spec, value, what)
        if spec.kind == "strings" and sources.get(spec.dest) == "flag":
            val = (*values[spec.dest], *val)  # type: ignore[misc]
        values[spec.dest] = val
        sources[spec.dest] = "flag"
    for spec in specs:
        if spec.dest in sources:
            continue
        for e in spec.envs:
            key = env_prefix + e
            if key in environ:
                values[spec.dest] = _convert(spec, environ[key], f"environment variable {key}")
                sources[spec.dest] = "env"
                break
    refused = sorted(k for k in environ if k.startswith(env_prefix) and
                     not any(k == env_prefix + e for s in specs for e in s.envs))  # fmt: skip
    if refused:
        raise refuse(f"environment variable {refused[0]}", refused[0][len(env_prefix):])
    return ParsedFlags(values=values, sources=sources)
