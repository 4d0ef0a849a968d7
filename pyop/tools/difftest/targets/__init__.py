"""The difftest targets, one module per function under test (importing registers them)."""

from pyop.tools.difftest.targets import (  # noqa: F401 - imported to register
    attributes,
    batch,
    batch_stage,
    blob,
    channel,
    check_batch,
    frames,
    l1_info,
    span_derive,
    system_config,
)
