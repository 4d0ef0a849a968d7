"""The shape of a difftest target: a generator of inputs and pyop's side of the function.

A target's input is a JSON object (sent as is to the Go peer's target of the same name); its
result is ``(value, info)``: ``value`` is the canonical JSON that must equal the Go side's
``v``, ``info`` are details (messages) shown in reports and never compared. pyop raising one of
its own typed errors is a result like any other (the target maps it to an error kind); any
other exception escaping :meth:`Target.pyop` is a crash, always an unexplained divergence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from pyop.tools.difftest.gen import ConfigPool, Rng
from pyop.tools.difftest.seeds import Seeds

Input = dict[str, Any]
Result = tuple[Any, dict[str, Any]]


class Target(ABC):
    """One function under test (see the module docstring)."""

    #: The name on the command line and of the Go peer's handler.
    name: ClassVar[str]
    #: One line for ``pyop difftest --list``: what is compared, with the op-node function.
    summary: ClassVar[str]
    #: Whether the target has a pure-Python byte fuzzing phase (:meth:`fuzz_pyop`).
    has_pyop_fuzz: ClassVar[bool] = False

    def __init__(self, rng: Rng, seeds: Seeds) -> None:
        self.seeds = seeds
        self.configs = ConfigPool(rng)

    @abstractmethod
    def generate(self, rng: Rng) -> Input:
        """One input: structured with edge values, a mutated real vector, or arbitrary."""

    @abstractmethod
    def pyop(self, inp: Input) -> Result:
        """pyop's result for ``inp`` (canonical value, info)."""

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        """A call of pyop's decoder on arbitrary bytes (no Go side) and a description of its
        input: the call may raise only pyop's typed errors. Targets without a byte decoder do
        not override this."""
        raise NotImplementedError


REGISTRY: dict[str, type[Target]] = {}


def register(cls: type[Target]) -> type[Target]:
    REGISTRY[cls.name] = cls
    return cls
