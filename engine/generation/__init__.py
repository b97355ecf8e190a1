"""Serving the model: the Generator contract, llama.cpp, transformers and OpenAI-compatible engines,
the bundled model, LoRA adapters as GGUF, and which version writes each workspace's copy."""
