"""Fine-tuned versions served by llama.cpp: each peft adapter converted to a GGUF LoRA and applied
over the unchanged quantised base, per request, writes what transformers writes with it merged."""

import asyncio

import pytest

from engine.config import EngineConfig
from engine.generation.bundle import small_model_path
from engine.generation.contract import ServedVersion
from engine.generation.lora_gguf import ADAPTER_FILE
from engine.generation.serving import load_generator

PROMPT = [{"role": "user", "content": "Write a slogan for a bamboo toothbrush."}]


def make_adapter(folder, smollm_dir, seed: int):
    """A LoRA on the attention projections with weights large enough to change the answer
    (Q and K are the projections llama.cpp stores permuted)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(smollm_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj"],
                                             task_type="CAUSAL_LM"))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.3)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory, smollm_dir):
    return make_adapter(tmp_path_factory.mktemp("adapter"), smollm_dir, seed=0)


@pytest.fixture(scope="module")
def other_adapter_dir(tmp_path_factory, smollm_dir):
    return make_adapter(tmp_path_factory.mktemp("other-adapter"), smollm_dir, seed=1)


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


def first_words(text: str) -> list[str]:
    # Same weights, different arithmetic (llama.cpp quantises activations): the first words agree.
    return text.split()[:3]


async def test_one_server_writes_each_request_with_its_own_version(tmp_path, smollm_dir, adapter_dir,
                                                                   other_adapter_dir):
    """Two workspaces' versions and the base served by one llama.cpp server: each request is
    written by the adapter of the version it names, whatever ran in the slot before it."""
    base = greedy_transformers(smollm_dir)
    ours = greedy_transformers(smollm_dir, adapter_dir)
    theirs = greedy_transformers(smollm_dir, other_adapter_dir)
    assert len({base, ours, theirs}) == 3  # each adapter matters
    # Three slots: requests of different versions may run at the same time.
    config = EngineConfig(data_dir=tmp_path, model="small", temperature=0.0, threads=2, max_batch=3)
    versions = (ServedVersion("slack:T1/v1", "v1", (adapter_dir,)),
                ServedVersion("slack:T2/v1", "v1", (other_adapter_dir,)))
    generator = await asyncio.to_thread(load_generator, config, versions)
    try:
        assert (adapter_dir / ADAPTER_FILE).is_file()  # converted once, kept with the version
        written = []
        for model in (None, "slack:T1/v1", "slack:T2/v1", "slack:T1/v1", None, "slack:T2/v1"):
            (text,), name = await generator.generate(PROMPT, 1, 12, model=model)
            written.append((first_words(text), name))
        # A version no longer served (a switch under way) is written by the base, and says so.
        (text,), name = await generator.generate(PROMPT, 1, 12, model="slack:T3/v4")
        written.append((first_words(text), name))
        together = await asyncio.gather(*(generator.generate(PROMPT, 1, 12, model=model)
                                          for model in ("slack:T2/v1", None, "slack:T1/v1")))
    finally:
        await generator.stop()
    expected_base = (first_words(base), "SmolLM2-135M-Instruct")
    assert written == [expected_base, (first_words(ours), "v1"), (first_words(theirs), "v1"),
                       (first_words(ours), "v1"), expected_base, (first_words(theirs), "v1"),
                       expected_base]
    assert [(first_words(text), name) for (text,), name in together] == [
        (first_words(theirs), "v1"), expected_base, (first_words(ours), "v1")]


def test_the_small_base_is_the_file_llama_cpp_serves():
    assert small_model_path().suffix == ".gguf"
