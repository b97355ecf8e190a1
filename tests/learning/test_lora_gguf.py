"""A fine-tuned version served by llama.cpp: the peft adapter converted to a GGUF LoRA and applied
over the unchanged quantised base writes what transformers writes with the adapter merged."""

import asyncio

import pytest

from engine.bundle import small_model_path
from engine.config import EngineConfig
from engine.learning.lora_gguf import ADAPTER_FILE
from engine.serving import load_generator

PROMPT = [{"role": "user", "content": "Write a slogan for a bamboo toothbrush."}]


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory, smollm_dir):
    """A LoRA on the attention projections with weights large enough to change the answer
    (Q and K are the projections llama.cpp stores permuted)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(smollm_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj"],
                                             task_type="CAUSAL_LM"))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.3)
    folder = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(folder)
    return folder


def greedy_transformers(smollm_dir, adapter_dir=None) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm_dir)
    model = AutoModelForCausalLM.from_pretrained(smollm_dir, dtype=torch.float32)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


async def greedy_llama(tmp_path, adapters) -> str:
    config = EngineConfig(data_dir=tmp_path, model="small", temperature=0.0, threads=2, max_batch=1)
    generator = await asyncio.to_thread(load_generator, config, adapters, "v1" if adapters else None)
    try:
        (text,), version = await generator.generate(PROMPT, 1, 12)
    finally:
        await generator.stop()
    assert version == ("v1" if adapters else "SmolLM2-135M-Instruct")
    return text


async def test_the_adapter_served_by_llama_cpp_writes_what_the_merged_model_writes(tmp_path, smollm_dir, adapter_dir):
    merged = greedy_transformers(smollm_dir, adapter_dir)
    base = greedy_transformers(smollm_dir)
    assert merged != base  # the adapter matters
    served = await greedy_llama(tmp_path, [adapter_dir])
    assert (adapter_dir / ADAPTER_FILE).is_file()  # converted once, kept with the version
    # Same weights, different arithmetic (llama.cpp quantises activations): the first words agree.
    assert served.split()[:3] == merged.split()[:3]
    assert (await greedy_llama(tmp_path, [])).split()[:3] == base.split()[:3]


def test_the_small_base_is_the_file_llama_cpp_serves():
    assert small_model_path().suffix == ".gguf"
