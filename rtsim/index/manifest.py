"""A library's manifest: what built it, what it holds, and what may query it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rtsim.errors import LibraryError, LibraryMismatchError

__all__ = ["Manifest", "sha256_file", "FORMAT", "INDEX_KINDS"]

FORMAT = 1

#: Index kinds a library can be built with (``auto`` picks one of the others, which is
#: what a manifest's ``index_kind`` records); here, not beside FAISS, so that the command
#: line can offer them without loading FAISS.
INDEX_KINDS = ("auto", "flat", "hnsw", "ivf", "ivfpq", "disk")


@dataclass(frozen=True)
class Manifest:
    """Everything a loader needs to refuse a library that does not fit.

    Attributes
    ----------
    embedder : str
        Name of the embedder the vectors come from.
    embedder_spec : dict
        Its full :class:`~rtsim.embed.EmbedderSpec` (``to_dict()``).
    weights_hash : str
        sha256 of the embedder state used (for fitted embedders: the stored state's).
    fitted : bool
        The embedder state is stored in the library (``embedder.safetensors``).
    frontend : dict
        Front-end identity the frames were computed with.
    dim, metric : int, str
    count, rows : int
        Items, and vectors in the index (a one-shot item has several).
    index_kind : str
    xyz : str
        ``"native"`` (the embedder's first three dimensions) or ``"pca"`` (fitted).
    built_at, rtsim_version : str
    source : dict
        Folder scanned and file counts (indexed, skipped by reason).
    build_config : dict
        The build options.
    files : dict[str, str]
        sha256 of every other file in the library folder.
    golden : list of float
        The embedder's output for a fixed probe signal at build time (self-test).
    """

    embedder: str
    embedder_spec: dict[str, Any]
    weights_hash: str
    fitted: bool
    frontend: dict[str, Any]
    dim: int
    metric: str
    count: int
    rows: int
    index_kind: str
    xyz: str
    built_at: str
    rtsim_version: str
    source: dict[str, Any] = field(default_factory=dict)
    build_config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    golden: list[float] = field(default_factory=list)
    format: int = FORMAT

    def write(self, path: Path) -> None:
        """Write as pretty JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read and validate a manifest file."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise LibraryError(f"{path.parent} is not an rtsim library (no manifest.json)") from exc
        except (OSError, ValueError) as exc:
            raise LibraryError(f"cannot read library manifest {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else data
            raise LibraryError(
                f"{path}: unsupported library format {found!r} (this rtsim reads format "
                f"{FORMAT}); rebuild the library"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise LibraryError(f"{path}: malformed manifest ({exc})") from exc

    def check_embedder(self, *, name: str, weights_hash: str, frontend: dict[str, Any],
                       dim: int, metric: str) -> None:
        """Raise :class:`LibraryMismatchError` unless the running embedder fits."""
        problems = []
        if name != self.embedder:
            problems.append(f"embedder {self.embedder!r} (running: {name!r})")
        if frontend != self.frontend:
            diff = {k: (self.frontend.get(k), frontend.get(k))
                    for k in sorted(set(frontend) | set(self.frontend))
                    if frontend.get(k) != self.frontend.get(k)}
            problems.append("front end " + ", ".join(
                f"{k}={a!r} (running: {b!r})" for k, (a, b) in diff.items()))
        if dim != self.dim:
            problems.append(f"dim={self.dim} (running: {dim})")
        if metric != self.metric:
            problems.append(f"metric={self.metric!r} (running: {metric!r})")
        if not problems and weights_hash != self.weights_hash:
            problems.append(
                f"weights {self.weights_hash[:12]} (running: {weights_hash[:12]}): the model "
                "changed since the library was built"
            )
        if problems:
            raise LibraryMismatchError(
                "library was built for " + "; ".join(problems) + ". Rebuild it with "
                f"`rtsim index build FOLDER --embedder {name} --out LIB`."
            )


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
