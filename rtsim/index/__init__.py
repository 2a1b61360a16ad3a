"""Sample libraries: FAISS index, SQLite items, 3-D map and manifest."""

from rtsim.index.faiss_index import IndexSpec, Searcher, build_index
from rtsim.index.library import Library, write_library
from rtsim.index.manifest import Manifest
from rtsim.index.metadata import Item

__all__ = ["IndexSpec", "Item", "Library", "Manifest", "Searcher", "build_index",
           "write_library"]
