"""Static arena planning (docs/memory-planning.md); the firmware runtime implements the same algorithm.

Every non-constant tensor (graph inputs, intermediates, outputs) gets a byte offset in one arena:

1. lifetime ``[first, last]``: ``first`` = index of the op that writes it (graph inputs: 0);
   ``last`` = index of the last op that reads it (graph outputs: ``len(ops) − 1``; a tensor never
   read lives only during the op that writes it);
2. size = its bytes rounded up to a multiple of 16;
3. order: size descending, ties by tensor index ascending;
4. first fit: each tensor takes the lowest offset (a multiple of 16) at which it overlaps no already
   placed tensor whose lifetime intersects its own;
5. ``arena_bytes = max(offset + size)`` (0 for a graph without activations).

RESHAPE outputs are ordinary tensors (no aliasing).
"""

from __future__ import annotations

from dataclasses import dataclass

from lpn_tf.export.graph import IntGraph

ALIGNMENT = 16


@dataclass(frozen=True)
class Placement:
    """One planned tensor: index, lifetime (op indices, inclusive), aligned size and offset in bytes."""

    tensor: int
    first_op: int
    last_op: int
    size_bytes: int
    offset: int


@dataclass(frozen=True)
class MemoryPlan:
    """The arena plan: placements by tensor index and the total arena size in bytes."""

    placements: dict[int, Placement]
    arena_bytes: int


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def lifetimes(graph: IntGraph) -> dict[int, tuple[int, int]]:
    """Lifetime ``(first_op, last_op)`` of every non-constant tensor that the graph uses."""
    last_op = max(len(graph.ops) - 1, 0)
    first: dict[int, int] = {i: 0 for i in graph.inputs}
    last: dict[int, int] = {}
    for k, op in enumerate(graph.ops):
        for i in op.inputs:
            if i != -1 and not graph.tensors[i].is_constant:
                last[i] = max(last.get(i, k), k)
        for i in op.outputs:
            first.setdefault(i, k)
    for i in graph.outputs:
        last[i] = last_op
    return {i: (f, max(last.get(i, f), f)) for i, f in first.items()}


def plan(graph: IntGraph) -> MemoryPlan:
    """Plan the arena with the greedy first-fit algorithm of this module's docstring."""
    life = lifetimes(graph)
    sizes = {i: _align(graph.tensors[i].nbytes) for i in life}
    order = sorted(life, key=lambda i: (-sizes[i], i))
    placed: list[Placement] = []
    for i in order:
        f, last = life[i]
        size = sizes[i]
        conflicts = sorted(
            (p.offset, p.offset + p.size_bytes) for p in placed if p.first_op <= last and f <= p.last_op
        )
        offset = 0
        for start, end in conflicts:
            if offset + size <= start:
                break
            offset = max(offset, end)
        placed.append(Placement(i, f, last, size, offset))
    arena = max((p.offset + p.size_bytes for p in placed), default=0)
    return MemoryPlan({p.tensor: p for p in placed}, arena)
