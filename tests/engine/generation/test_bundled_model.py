"""The real default model: Qwen2.5-Coder-1.5B-Instruct assembled from its 22 PyPI parts, served by
llama.cpp, writing one short variant in English and one in Chinese through the copywriter."""

import asyncio

import pytest

from engine.config import EngineConfig
from engine.copy.brief_checks import check_variant
from engine.copy.copywriter import Copywriter
from engine.copy.prompts import PromptBook
from engine.generation.bundle import QWEN_1_5B
from engine.generation.serving import load_generator
from engine.types import CopyRequest
from tests.models import REPO

# Kept across runs like the SmolLM2 cache; a fresh clone assembles it once (~10 s).
CACHE = REPO / ".cache"


@pytest.fixture(scope="module")
def qwen():
    generator = load_generator(EngineConfig(data_dir=CACHE, model="bundled", max_batch=2))
    yield generator
    asyncio.run(generator.stop())


def test_the_assembled_file_is_the_published_one(qwen):
    path = CACHE / "models" / QWEN_1_5B.filename
    assert path.stat().st_size == QWEN_1_5B.size
    assert (path.with_name(path.name + ".verified")).read_text().split()[0] == QWEN_1_5B.sha256
    assert qwen.version == "Qwen2.5-Coder-1.5B-Instruct"


@pytest.mark.parametrize("product, language", [
    ("Aurora wireless earbuds: 30-hour battery, noise cancelling", "en"),
    ("山泉咖啡冷萃咖啡，零糖，每瓶250毫升", "zh"),
])
async def test_one_short_variant_is_on_brief_and_in_the_request_language(qwen, product, language):
    copywriter = Copywriter(PromptBook.load(REPO / "prompts"), qwen, max_new_tokens=48, max_rounds=3)
    draft = await copywriter.write(CopyRequest(product=product, n=1, length="short"), None, [])
    assert draft.language == language
    (text,) = draft.texts
    assert check_variant(text, product, language).problems == ()
    # The brand, in any case ("#AuroraEarbuds", "AURORA"): what the brief check counts as naming it.
    assert ("aurora" in text.lower()) if language == "en" else ("冷萃咖啡" in text or "山泉咖啡" in text)
