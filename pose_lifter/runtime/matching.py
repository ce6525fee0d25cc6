"""Greedy one-to-one matching on a cost matrix: person tracking and ground-truth scoring."""

from __future__ import annotations

import numpy as np


def greedy_pairs(cost: np.ndarray, max_cost: float) -> list[tuple[int, int]]:
    """Match rows to columns, cheapest pair first, each at most once.

    Args:
        cost: ``(R, C)`` costs; inf or NaN never match.
        max_cost: pairs costing more are not matched.

    Returns:
        ``(row, column)`` pairs in the order they were matched (cheapest first; ties in
        row-major order).
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.size == 0:
        return []
    columns = cost.shape[1]
    inf = float("inf")
    values = [v if v == v else inf for v in cost.ravel().tolist()]  # NaN: never; small: lists
    pairs, used_rows, used_columns = [], set(), set()
    for flat in sorted(range(len(values)), key=values.__getitem__):  # stable: row-major ties
        if not values[flat] <= max_cost:
            break
        row, column = divmod(flat, columns)
        if row not in used_rows and column not in used_columns:
            pairs.append((row, column))
            used_rows.add(row)
            used_columns.add(column)
    return pairs
