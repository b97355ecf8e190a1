"""copybot's platform adapters: Slack, Discord and the console. They know platforms, not models."""
