"""Weekly reports: what the team did, how the model changed, how customers feel."""

from engine.reports.periods import DEFAULT_REPORT_CRON, Period
from engine.reports.service import RenderedReport, ReportService

__all__ = ["DEFAULT_REPORT_CRON", "Period", "RenderedReport", "ReportService"]
