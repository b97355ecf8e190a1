"""A peft LoRA adapter as a GGUF LoRA file, so llama.cpp serves a fine-tuned version over the
unchanged quantised base: no merge, no re-quantisation, one small file per version.

The layout is llama.cpp's (what its ``convert_lora_to_gguf.py`` writes): ``general.type=adapter``,
``adapter.type=lora``, ``adapter.lora.alpha``, and for each adapted weight two tensors named after
the base's GGUF tensor, ``<name>.lora_a`` (rank × in) and ``<name>.lora_b`` (out × rank). llama.cpp
scales the product by alpha / rank, as peft does. Names come from the ``gguf`` package's own
Hugging Face → GGUF tensor map. Llama-family bases store Q and K rows permuted for rotary
embeddings; the same permutation is applied to ``lora_b``'s rows.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

logger = logging.getLogger(__name__)

ADAPTER_FILE = "adapter.gguf"  # written next to the peft files of a version
_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")


def base_metadata(base_gguf: Path) -> dict:
    """The base model's architecture, block count and head counts, read from its GGUF header."""
    from gguf import GGUFReader

    reader = GGUFReader(str(base_gguf))

    def field(key: str):
        value = reader.fields[key]
        return value.contents() if hasattr(value, "contents") else value.parts[value.data[0]].tolist()

    arch = field("general.architecture")
    arch = arch if isinstance(arch, str) else bytes(arch).decode()
    return {
        "arch": arch,
        "blocks": int(field(f"{arch}.block_count")),
        "heads": int(field(f"{arch}.attention.head_count")),
        "kv_heads": int(field(f"{arch}.attention.head_count_kv")),
    }


def _permute(rows, heads: int):
    """llama.cpp's Q/K row order for Llama-family GGUFs (convert_hf_to_gguf's ``permute``)."""
    return (rows.reshape(heads, 2, rows.shape[0] // heads // 2, *rows.shape[1:])
            .swapaxes(1, 2).reshape(rows.shape))


def convert_adapter(adapter_dir: Path, base_gguf: Path, output: Path | None = None) -> Path:
    """Write ``adapter_dir`` (peft: adapter_config.json + adapter_model.safetensors) as a GGUF LoRA
    for ``base_gguf``; returns its path (default ``adapter_dir/adapter.gguf``). Written to a
    temporary name and renamed, so a crash never leaves a half file that looks complete."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    output = output or adapter_dir / ADAPTER_FILE
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    meta = base_metadata(base_gguf)
    arch = next(a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == meta["arch"])
    names = gguf.get_tensor_name_map(arch, meta["blocks"])
    permuted = meta["arch"] in ("llama",)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in load_file(str(adapter_dir / "adapter_model.safetensors")).items():
        match = _PEFT_KEY.match(key)
        if match is None:
            raise ValueError(f"unexpected tensor {key!r} in the adapter at {adapter_dir}")
        pairs.setdefault(match["module"], {})[match["part"]] = value.astype(np.float32)

    writer = gguf.GGUFWriter(str(output.with_name(output.name + ".partial")), meta["arch"])
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config.get("lora_alpha", config.get("r", 8))))
    for module, parts in sorted(pairs.items()):
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None or set(parts) != {"A", "B"}:
            raise ValueError(f"cannot place the adapted weight {module!r} in a {meta['arch']} GGUF")
        lora_b = parts["B"]
        if permuted and module.endswith("q_proj"):
            lora_b = _permute(lora_b, meta["heads"])
        elif permuted and module.endswith("k_proj"):
            lora_b = _permute(lora_b, meta["kv_heads"])
        writer.add_tensor(f"{target}.lora_a", np.ascontiguousarray(parts["A"]))
        writer.add_tensor(f"{target}.lora_b", np.ascontiguousarray(lora_b))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    output.with_name(output.name + ".partial").replace(output)
    logger.info("converted the adapter in %s to %s (%d weights)", adapter_dir, output.name, len(pairs))
    return output


def served_adapter(adapter_dir: Path, base_gguf: Path) -> Path:
    """The GGUF form of a version's adapter, converting it the first time it is served."""
    path = adapter_dir / ADAPTER_FILE
    if not path.is_file():
        convert_adapter(adapter_dir, base_gguf, path)
    return path
