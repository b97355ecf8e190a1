"""What belongs to one workspace: the settings admins change in chat, and the team's feedback."""
