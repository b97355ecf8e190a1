"""The learning loop: weekly LoRA fine-tunes on team-approved copy, evaluated before they go live.

dataset (approved/rejected examples -> train/validation), train (the training process), process (that
process seen from the bot), evaluate (scores and the promotion rule), versions (model versions on
disk and in SQLite), runner (one run), service (what the engine calls), status (what it answers).
"""
