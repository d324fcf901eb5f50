"""The arena planner: pinned example, invariants, and an independent brute-force implementation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpn_tf.export import memory_plan
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.random_graphs import LayerSpec, output_shapes_ok, random_graph


def brute_force_plan(graph) -> dict[int, int]:
    """docs/memory-planning.md step by step: try offsets 0, 16, 32, ... until one fits."""
    n_ops = len(graph.ops)
    first = {i: 0 for i in graph.inputs}
    last: dict[int, int] = {}
    for k, op in enumerate(graph.ops):
        for i in op.inputs:
            if i >= 0 and graph.tensors[i].data is None:
                last[i] = k
        for i in op.outputs:
            first.setdefault(i, k)
    for i in graph.outputs:
        last[i] = n_ops - 1
    size = {i: -(-graph.tensors[i].nbytes // 16) * 16 for i in first}
    offsets: dict[int, int] = {}
    for i in sorted(first, key=lambda t: (-size[t], t)):
        lo, hi = first[i], last.get(i, first[i])
        offset = 0
        while True:
            clash = [
                j
                for j in offsets
                if first[j] <= hi
                and lo <= last.get(j, first[j])
                and offsets[j] < offset + size[i]
                and offset < offsets[j] + size[j]
            ]
            if not clash:
                break
            offset += 16
        offsets[i] = offset
    return offsets


def test_pinned_chain() -> None:
    # x(1x4x4x3=48 B) -> conv a(1x4x4x5=80 B) -> conv b(1x4x4x2=32 B) -> dense out(1x3: 3 -> 16 B)
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 3), 0.1)
    a = b.conv_2d(x, np.ones((5, 1, 1, 3)), None, np.full(5, 0.01), 0.1)
    c = b.conv_2d(a, np.ones((2, 1, 1, 5)), None, np.full(2, 0.01), 0.1)
    r = b.reshape(c, (1, 32))
    y = b.fully_connected(r, np.ones((3, 32)), None, np.array([0.01]), 0.1)
    b.output(y)
    plan = memory_plan.plan(b.graph)
    off = {i: p.offset for i, p in plan.placements.items()}
    # sizes: a 80, x 48, c 32, r 32, y 16; lifetimes x[0,0] a[0,1] c[1,2] r[2,3] y[3,3]
    assert off[a] == 0 and off[x] == 80 and off[c] == 80 and off[r] == 0 and off[y] == 32
    assert plan.arena_bytes == 128
    assert plan.placements[x].first_op == 0 and plan.placements[y].last_op == 3


@st.composite
def graphs(draw: st.DrawFn):
    hw = (draw(st.integers(3, 9)), draw(st.integers(3, 9)))
    kinds = st.sampled_from(["conv", "dwconv", "residual", "avgpool", "maxpool"])
    layers = draw(
        st.lists(
            st.builds(
                LayerSpec,
                kind=kinds,
                kernel=st.integers(1, 3),
                stride=st.integers(1, 2),
                channels=st.integers(1, 9),
                multiplier=st.integers(1, 2),
            ),
            min_size=1,
            max_size=6,
        ).filter(lambda ls: output_shapes_ok(hw, ls))
    )
    graph = random_graph(
        np.random.default_rng(draw(st.integers(0, 1000))),
        hw,
        draw(st.integers(1, 5)),
        layers,
        draw(st.integers(0, 4)),
        "dense",
    )
    if draw(st.booleans()):  # plan the deployed graph: only the last tensor is an output
        graph.outputs = graph.outputs[-1:]
    return graph


@settings(max_examples=80, deadline=None)
@given(graphs())
def test_plan_matches_brute_force_and_is_valid(graph) -> None:
    plan = memory_plan.plan(graph)
    assert {i: p.offset for i, p in plan.placements.items()} == brute_force_plan(graph)
    placed = list(plan.placements.values())
    for p in placed:
        assert p.offset % 16 == 0 and p.size_bytes % 16 == 0
        assert p.size_bytes >= graph.tensors[p.tensor].nbytes
    for i, p in enumerate(placed):
        for q in placed[i + 1 :]:
            live_together = p.first_op <= q.last_op and q.first_op <= p.last_op
            overlap = p.offset < q.offset + q.size_bytes and q.offset < p.offset + p.size_bytes
            assert not (live_together and overlap)
    peak = max(
        sum(p.size_bytes for p in placed if p.first_op <= k <= p.last_op) for k in range(len(graph.ops))
    )
    assert peak <= plan.arena_bytes <= sum(p.size_bytes for p in placed)
