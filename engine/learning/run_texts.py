"""What a fine-tune run tells the workspace, in words, with its numbers."""

from __future__ import annotations

from engine.config import EngineConfig
from engine.learning.evaluate import Decision
from engine.learning.versions import ModelVersion


def _data_text(metrics: dict) -> str:
    """What a run learned from, in words: every kind of example, and what the guard dropped."""
    text = f"{metrics['train_examples']} approved examples"
    if metrics.get("preference_pairs"):
        kinds = metrics.get("pair_kinds") or {}
        parts = [f"{count} from {'one request' if kind == 'same request' else 'refinements'}"
                 for kind, count in sorted(kinds.items()) if count]
        text += f" and {metrics['preference_pairs']} preference pairs"
        if parts:
            text += f" ({', '.join(parts)})"
    guard = (metrics.get("guard") or {}).get("text")
    return f"{text} ({guard})" if guard else text


def trial_start_text(version: ModelVersion, active_name: str, metrics: dict, decision: Decision,
                      config: EngineConfig) -> str:
    active, candidate = metrics["active"], metrics["candidate"]
    return (f"The model learned from {_data_text(metrics)}: {version.name} passed the offline "
            f"check (approved-copy NLL {active['approved_nll']:.3f} → "
            f"{candidate['approved_nll']:.3f}, {-decision.improvement:+.1%}) and now writes some of "
            f"the variants of {config.ab_share:.0%} of /copy requests, unlabelled, beside "
            f"{active_name}. Once each has {config.ab_verdicts} approvals or rejections, the one your "
            f"team approves clearly more often stays (one-sided Fisher exact test, p < "
            f"{config.ab_alpha:g}); until then {active_name} stays active.")


def result_text(version: ModelVersion, active_name: str, decision: Decision, metrics: dict) -> str:
    active, candidate = metrics["active"], metrics["candidate"]
    numbers = (f"approved-copy NLL {active['approved_nll']:.3f} → {candidate['approved_nll']:.3f} "
               f"({-decision.improvement:+.1%})")
    if active.get("rejected_nll") is not None and candidate.get("rejected_nll") is not None:
        numbers += f", rejected-copy NLL {active['rejected_nll']:.3f} → {candidate['rejected_nll']:.3f}"
    data = f"{_data_text(metrics)} (checked on {metrics['valid_examples']} held out)"
    limit = " Training stopped at the time limit." if metrics.get("stopped_at_time_limit") else ""
    if decision.promote:
        return (f"The model learned from {data}: {version.name} now writes your copy, replacing "
                f"{active_name}; {numbers}.{limit} Admins can undo it with /models rollback.")
    failed = "; ".join(r for r in decision.reasons if not r.endswith(": ok"))
    return (f"Fine-tuned candidate {version.name} on {data} was not promoted ({failed}); "
            f"{active_name} stays active.{limit}")
