"""Sample libraries: FAISS index, SQLite items, 3-D map and manifest.

Names load with their modules on first use (FAISS and torch are heavy): a command can
check its paths before paying for them.
"""

from typing import TYPE_CHECKING

from rtsim._lazy import lazy_exports

__all__ = ["IndexSpec", "Item", "Library", "Manifest", "Searcher", "build_index",
           "write_library"]

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "rtsim.index.faiss_index": ("IndexSpec", "Searcher", "build_index"),
    "rtsim.index.library": ("Library", "write_library"),
    "rtsim.index.manifest": ("Manifest",),
    "rtsim.index.metadata": ("Item",),
})

if TYPE_CHECKING:
    from rtsim.index.faiss_index import IndexSpec, Searcher, build_index
    from rtsim.index.library import Library, write_library
    from rtsim.index.manifest import Manifest
    from rtsim.index.metadata import Item
