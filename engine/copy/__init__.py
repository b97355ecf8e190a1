"""Writing copy: the copywriter, its prompts, cleaning the model's output, and the brief checks."""
