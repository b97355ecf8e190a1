"""Conversations: a thread's turns rewrite, imitate or add variants; preference pairs from what teams chose."""
