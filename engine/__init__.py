"""copybot's engine: models and storage, no platforms. Adapters import only from here."""

from engine.config import EngineConfig, engine_config_from_env, load_dotenv_file
from engine.engine import Engine
from engine.journal import InboundEvent
from engine.errors import BusyError, EventNotStored, UserError
from engine.reviews import ReviewSummary, render_summary, write_labels
from engine.settings import SETTINGS
from engine.types import (
    Announcement,
    ApprovedExample,
    CopyRequest,
    CopyResult,
    Feedback,
    FeedbackOutcome,
    Origin,
    Variant,
    Verdict,
)

__all__ = [
    "Announcement", "ApprovedExample", "BusyError", "CopyRequest", "CopyResult", "Engine", "EngineConfig", "EventNotStored",
    "Feedback",
    "FeedbackOutcome", "InboundEvent", "Origin", "ReviewSummary", "SETTINGS", "UserError", "Variant", "Verdict",
    "engine_config_from_env", "load_dotenv_file", "render_summary", "write_labels",
]
