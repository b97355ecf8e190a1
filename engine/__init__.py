"""copybot's engine: models and storage, no platforms. Adapters import only from here."""

from engine.config import (
    EngineConfig,
    Settings,
    engine_config_from_env,
    env_name,
    load_dotenv_file,
    load_settings,
    read_settings,
)
from engine.engine import Engine
from engine.errors import BusyError, EventNotStored, UserError
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch, TrialProgress
from engine.reports.figures import ModelNews, WeeklyReport
from engine.reviews import ReviewSummary, write_labels
from engine.runtime.checks import ModelProbe, PromptsSummary, latest_schema_version, probe_model, prompts_summary
from engine.runtime.health import Health
from engine.runtime.journal import InboundEvent
from engine.runtime.redaction import shown_value
from engine.types import (
    Announcement,
    ApprovedExample,
    CopyPreview,
    CopyRequest,
    CopyResult,
    Feedback,
    FeedbackOutcome,
    Origin,
    Refinement,
    ReviewBrief,
    ReviewPoint,
    Thread,
    TurnKind,
    Understood,
    Variant,
    Verdict,
)
from engine.workspace.settings import WORKSPACE_SETTINGS

__all__ = [
    "Announcement", "ApprovedExample", "BusyError", "CopyPreview", "CopyRequest", "CopyResult",
    "Engine", "EngineConfig", "EventNotStored", "Feedback", "FeedbackOutcome", "FinetuneStart",
    "FinetuneStatus", "Health", "InboundEvent", "ModelList", "ModelNews", "ModelProbe",
    "ModelSwitch", "Origin", "PromptsSummary", "Refinement", "ReviewBrief", "ReviewPoint",
    "ReviewSummary", "Settings", "Thread", "TrialProgress", "TurnKind", "Understood", "UserError", "Variant",
    "Verdict", "WORKSPACE_SETTINGS", "WeeklyReport", "engine_config_from_env", "env_name",
    "latest_schema_version", "load_dotenv_file", "load_settings", "probe_model", "prompts_summary",
    "read_settings", "shown_value", "write_labels",
]
