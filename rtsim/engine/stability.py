"""Hysteresis on the published best match, so a held note keeps its match.

Two library items a similar distance from the live sound trade places hop after hop as
the sound breathes; a performer sees the top match flicker every 50 ms on a held note.
With a ``margin`` (``[[embedder]] stability``), the item that was best stays best while
it is still among the k matches and no challenger is closer than ``(1 - margin)`` times
its distance. The other ranks keep the search's order; the raw order is still published
(ZeroMQ ``raw_ids``). A silent hop forgets the held item, so a new note chooses freely.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hold_best"]


def hold_best(ids: np.ndarray, distances: np.ndarray, held: int | None,
              margin: float) -> tuple[np.ndarray, np.ndarray, int | None]:
    """The ranks to publish and the item held from now on.

    Parameters
    ----------
    ids, distances : np.ndarray
        The search's matches, best first.
    held : int or None
        The item published best last hop (None: none, or the input was silent).
    margin : float
        In [0, 1): how much closer (a fraction of the held item's distance) a challenger
        must be to take the first rank. 0 publishes the search's order.

    Returns
    -------
    ids, distances : np.ndarray
        ``held`` moved to rank 0 when it keeps its place, else the inputs.
    held : int or None
        The item now published best.
    """
    if len(ids) == 0:
        return ids, distances, None
    where = np.flatnonzero(ids == held) if held is not None and margin > 0 else ()
    if len(where) == 0 or where[0] == 0 or distances[0] < (1 - margin) * distances[where[0]]:
        return ids, distances, int(ids[0])
    j = int(where[0])
    order = np.r_[j, np.arange(j), np.arange(j + 1, len(ids))]
    return ids[order], distances[order], held
