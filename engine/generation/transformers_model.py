"""Loading a model with transformers (training, and the fallback engine), and the safetensors copy
of a GGUF model that transformers trains on.

transformers can read GGUF but dequantising takes 20-60 s and the result cannot be saved as it is,
so the first fine-tune of a GGUF model converts it once into a plain safetensors checkpoint under
the data directory; later loads take seconds.
"""

from __future__ import annotations

import logging
import shutil
import time
import warnings
from pathlib import Path

from engine.errors import UserError
from engine.generation.bundle import SMALL_NAME, small_model_path

logger = logging.getLogger(__name__)


def cached_checkpoint(gguf: Path, name: str, cache_dir: Path) -> Path:
    """A safetensors copy of ``gguf`` under ``cache_dir/name``, converting it on first use."""
    target = cache_dir / name
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    logger.warning("Converting %s to a transformers checkpoint in %s (once; it can take a minute)",
                   gguf.name, target)
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
    del quantized
    # Write to a temporary folder and rename, so a crash never leaves a half-written cache.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    plain.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    logger.warning("Converted %s in %.0f s", gguf.name, time.monotonic() - started)
    return target


def cached_bundled_model(cache_dir: Path) -> Path:
    """The small model (SmolLM2-135M) as a transformers checkpoint: what the tests load."""
    return cached_checkpoint(small_model_path(), SMALL_NAME, cache_dir)


def load_model(source: str, threads: int = 0, bf16: bool = False):
    """Load a causal LM and its tokenizer for batched generation on the CPU (``bf16``: the weights
    in bfloat16, as training on a CPU with native bf16 wants them; read so from the file, the
    fp32 copy never exists)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.bfloat16 if bf16 else torch.float32)
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


def load_with_adapters(source: str, adapters: list[Path], threads: int = 0, bf16: bool = False):
    """The base model with each adapter merged in, oldest first, and its tokenizer."""
    model, tokenizer = load_model(source, threads=threads, bf16=bf16)
    if adapters:
        from peft import PeftModel

        with warnings.catch_warnings():  # deprecation chatter from inside peft/transformers
            warnings.simplefilter("ignore", FutureWarning)
            for adapter in adapters:
                model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        model.eval()
    return model, tokenizer
