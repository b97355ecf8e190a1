"""Loss on the answer only: the prompt is rendered exactly as the generator renders it, and only the
answer (with its end-of-turn token, so the model learns to stop) carries labels."""

from transformers import AutoTokenizer

from engine.learning.tokens import IGNORE, collate, encode

MESSAGES = [{"role": "system", "content": "You are a senior advertising copywriter."},
            {"role": "user", "content": "Write a tweet for this product: bamboo toothbrush"}]
ANSWER = "Brush greener: bamboo that lasts a year. #EcoSmile"


def test_only_the_answer_and_its_end_token_are_labelled(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    short = encode(tokenizer, MESSAGES, "Sleep better.")
    long = encode(tokenizer, MESSAGES, ANSWER)
    prompt = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    assert tokenizer.decode(long.input_ids[:long.answer_start]) == prompt

    ids, mask, labels = collate([short, long], tokenizer.pad_token_id)
    assert ids.shape == labels.shape == (2, len(long.input_ids))
    assert mask[0].sum() == len(short.input_ids)  # right padding is masked out
    for row, example in enumerate((short, long)):
        labelled = labels[row][labels[row] != IGNORE].tolist()
        assert labels[row][:example.answer_start].eq(IGNORE).all()
        assert labelled == example.input_ids[example.answer_start:]
    answer = tokenizer.decode(labels[1][labels[1] != IGNORE])
    assert answer == ANSWER + tokenizer.eos_token


def test_an_over_long_prompt_loses_its_beginning_never_the_answer(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    messages = [MESSAGES[0], {"role": "user", "content": "Write copy for: " + "very " * 600 + "soft socks"}]
    encoded = encode(tokenizer, messages, ANSWER, max_length=128)
    assert len(encoded.input_ids) == 128
    assert tokenizer.decode(encoded.input_ids[encoded.answer_start:]).startswith(ANSWER)
    assert "soft socks" in tokenizer.decode(encoded.input_ids[:encoded.answer_start])
