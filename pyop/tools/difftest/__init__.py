"""``pyop difftest``: differential fuzzing of pyop against op-node v1.19.6's own functions.

For each target (one function of the derivation, see ``pyop difftest --list``), inputs are
generated (:mod:`.gen`, :mod:`.batches`, target modules: structured, with edge values at every
rule and fork boundary), taken from real vectors and mutated (:mod:`.seeds`, :mod:`.mutate`), or
replayed from kept divergence vectors and a ``--corpus``. Each input goes to pyop's function and,
as one JSON line, to the Go peer ``interop/go/difftest`` (our program importing op-node's
``op-node/rollup/derive`` as a library, :mod:`.peer`); both answer with a canonical JSON value
(:mod:`.canon`) and the texts must be equal. Divergences are classified against
``spec_vectors/divergences/KNOWN.json`` (:mod:`.known`), shrunk (:mod:`.shrink`) and written as
vectors; the run loop is :mod:`.runner`. Pure-Python byte fuzzing of the decoders (no Go side)
runs after the differential phase of the decoder targets.
"""
