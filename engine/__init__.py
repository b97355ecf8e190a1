"""copybot's engine: models and storage, no platforms. Adapters import only from here."""

from engine.config import EngineConfig, Settings, engine_config_from_env, load_dotenv_file, load_settings, read_settings
from engine.engine import Engine
from engine.errors import BusyError, EventNotStored, UserError
from engine.health import Health
from engine.journal import InboundEvent
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch, TrialProgress
from engine.redaction import shown_value
from engine.reports.figures import ModelNews, WeeklyReport
from engine.reviews import ReviewSummary, write_labels
from engine.settings import SETTINGS
from engine.types import (
    Announcement,
    ApprovedExample,
    CopyRequest,
    CopyPreview,
    CopyResult,
    Feedback,
    FeedbackOutcome,
    Origin,
    Refinement,
    ReviewBrief,
    ReviewPoint,
    Thread,
    TurnKind,
    Variant,
    Verdict,
)

__all__ = [
    "Announcement", "ApprovedExample", "BusyError", "CopyPreview", "CopyRequest", "CopyResult", "Engine",
    "EngineConfig", "EventNotStored", "Feedback", "FeedbackOutcome", "FinetuneStart", "FinetuneStatus",
    "Health", "InboundEvent", "ModelList", "ModelNews", "ModelSwitch", "Origin", "TrialProgress",
    "Refinement", "ReviewBrief", "ReviewPoint", "ReviewSummary", "Settings", "Thread", "TurnKind", "SETTINGS",
    "UserError", "Variant", "Verdict", "WeeklyReport",
    "engine_config_from_env", "load_dotenv_file", "load_settings", "read_settings", "shown_value",
    "write_labels",
]
