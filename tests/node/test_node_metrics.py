"""Prometheus text exposition (format 0.0.4) of the node metrics, checked line by line against
the format's grammar: HELP/TYPE lines, label escaping, cumulative histogram buckets."""

from __future__ import annotations

import re

from pyop.node.metrics import Histogram, NodeMetrics, Registry

SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*")*)\})?'
    r' (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|Inf|NaN))$'
)


def parse(text: str) -> dict[str, list[tuple[str, str, str]]]:
    assert text.endswith("\n")
    families: dict[str, list[tuple[str, str, str]]] = {}
    types: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("# HELP "):
            current = line.split(" ")[2]
            families[current] = []
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            assert name == current
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped")
            types[name] = typ
        else:
            m = SAMPLE.match(line)
            assert m, f"bad sample line {line!r}"
            name = m["name"]
            base = re.sub(r"_(bucket|sum|count)$", "", name) if types[current] == "histogram" else name
            assert base == current, f"{name} outside its family {current}"
            families[current].append((name, m["labels"] or "", m["value"]))
    return families


def test_node_metrics_exposition() -> None:
    m = NodeMetrics()
    m.up.set(1)
    m.record_ref("l1", "l1_head", 120, 1_700_000_000)
    m.record_ref("l2", "l2_unsafe", 300, 1_700_000_010)
    m.derivation_lag.set(3)
    m.record_engine_call("engine_forkchoiceUpdatedV3", 0.004, True)
    m.record_engine_call("engine_forkchoiceUpdatedV3", 0.3, False)
    m.drops.inc("PAST_BATCH")
    m.drops.inc("PAST_BATCH")
    fam = parse(m.render())
    assert ("op_node_default_up", "", "1") in fam["op_node_default_up"]
    assert ("op_node_default_refs_number", 'layer="l1",type="l1_head"', "120") in fam["op_node_default_refs_number"]
    assert ("op_node_default_derivation_drops_total", 'reason="PAST_BATCH"', "2") in fam[
        "op_node_default_derivation_drops_total"]
    lat = fam["op_node_default_engine_call_seconds"]
    buckets = [(lbl, v) for n, lbl, v in lat if n.endswith("_bucket")]
    # cumulative: 0.004 <= 0.005 ... ; 0.3 only from le=0.5
    assert ('method="engine_forkchoiceUpdatedV3",le="0.005"', "1") in buckets
    assert ('method="engine_forkchoiceUpdatedV3",le="0.25"', "1") in buckets
    assert ('method="engine_forkchoiceUpdatedV3",le="0.5"', "2") in buckets
    assert buckets[-1] == ('method="engine_forkchoiceUpdatedV3",le="+Inf"', "2")
    counts = [int(v) for _, v in buckets]
    assert counts == sorted(counts)
    assert ("op_node_default_engine_call_seconds_count", 'method="engine_forkchoiceUpdatedV3"', "2") in lat
    (s,) = [v for n, _, v in lat if n.endswith("_sum")]
    assert abs(float(s) - 0.304) < 1e-9
    assert ("op_node_default_engine_call_errors_total", 'method="engine_forkchoiceUpdatedV3"', "1") in fam[
        "op_node_default_engine_call_errors_total"]


def test_label_escaping_and_help() -> None:
    r = Registry()
    g = r.gauge("x_total_things", 'help with \\ backslash\nand newline', ["k"])
    g.set(2.5, 'a"b\\c\nd')
    text = r.render()
    assert '# HELP x_total_things help with \\\\ backslash\\nand newline' in text
    assert 'x_total_things{k="a\\"b\\\\c\\nd"} 2.5' in text
    parse(text)


def test_histogram_without_labels() -> None:
    r = Registry()
    h = r.histogram("lat_seconds", "latency", buckets=(1.0, 2.0))
    assert isinstance(h, Histogram)
    h.observe(1.5)
    lines = r.render().splitlines()[2:]
    assert lines == ['lat_seconds_bucket{le="1"} 0', 'lat_seconds_bucket{le="2"} 1',
                     'lat_seconds_bucket{le="+Inf"} 1', "lat_seconds_sum 1.5", "lat_seconds_count 1"]  # fmt: skip


def test_source_cache_families_as_op_node() -> None:
    """``l1_source_cache_{size,get,add}`` (op-service ``metrics.CacheMetrics``, op-node
    ``metrics.go`` "L1 Source cache"): the size after each addition, lookups by ``hit``,
    additions by ``evicted``; families appear once they have a series (Go client)."""
    from pyop.sources.lru import LRUCache

    m = NodeMetrics()
    assert "l1_source_cache" not in m.render()
    cache: LRUCache[int, str] = LRUCache(2, label="headers", metrics=m.l1_source_cache)
    cache.put(1, "a")
    cache.put(2, "b")
    assert cache.get(1) == "a" and cache.get(9) is None
    cache.put(3, "c")  # evicts 2 (1 was used more recently)
    assert cache.get(2) is None and cache.get(1) == "a"
    fam = parse(m.render())
    ns = "op_node_default_l1_source_cache"
    assert fam[f"{ns}_size"] == [(f"{ns}_size", 'type="headers"', "2")]
    assert sorted(fam[f"{ns}_get"]) == [(f"{ns}_get", 'type="headers",hit="false"', "2"),
                                        (f"{ns}_get", 'type="headers",hit="true"', "2")]  # fmt: skip
    assert sorted(fam[f"{ns}_add"]) == [(f"{ns}_add", 'type="headers",evicted="false"', "2"),
                                        (f"{ns}_add", 'type="headers",evicted="true"', "1")]  # fmt: skip
    text = m.render()
    assert f"# HELP {ns}_get L1 Source cache lookups, hitting or not" in text
    assert f"# TYPE {ns}_add counter" in text and f"# TYPE {ns}_size gauge" in text
