"""Texts of reminders, overdue notices and escalations, in the recipient's language (gettext catalogs +
Babel)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from engine.i18n import N_, check_language, translate

DEADLINE_LABELS: dict[str, str] = {
    "acknowledge": N_("Acknowledgement of receipt"),
    "decide": N_("Decision on recognition and execution"),
    "execute": N_("Execution of the request"),
    "answer_clarification": N_("Answer to the request for clarification"),
    "await_acknowledgement": N_("Acknowledgement awaited from the counterpart"),
    "await_execution": N_("Execution awaited from the counterpart"),
}

LEVEL_LABELS: dict[str, str] = {
    "reminder": N_("Reminder"),
    "overdue": N_("Overdue"),
    "escalation": N_("Escalation"),
}

EVENT_LABELS: dict[str, str] = {
    "started": N_("started"),
    "paused": N_("paused"),
    "resumed": N_("resumed"),
    "extended": N_("extended"),
    "met": N_("met"),
    "cancelled": N_("cancelled"),
    "escalated": N_("notice sent"),
}

SUBJECTS: dict[str, str] = {
    "reminder": N_("Reminder: {deadline} in case {reference} is due on {due}"),
    "overdue": N_("Overdue: {deadline} in case {reference} was due on {due}"),
    "escalation": N_("Escalation: {deadline} in case {reference} is overdue since {due}"),
}
GENERIC_SUBJECT = N_("{level}: {deadline} in case {reference}, due on {due}")

EXPLANATIONS: dict[str, str] = {
    "reminder": N_("Most of the period has elapsed. Please take the required step before the due date."),
    "overdue": N_(
        "The period has ended without the required step. Please act without delay or inform the "
        "counterpart authority of the reasons for the delay."
    ),
    "escalation": N_(
        "The deadline has been exceeded beyond the grace period. This notice goes to the supervisor "
        "and to the contact point of the counterpart authority."
    ),
}
WATCH_EXPLANATION = N_(
    "The counterpart authority {authority} has not taken this step within the period. Consider contacting it."
)
CASE_LINE = N_("Case {reference} (counterpart: {counterpart}, their reference: {counterpart_reference}).")
DUE_LINE = N_("Due: {due} ({timezone}).")
FOOTER = N_("This message was sent automatically by exhorto; please do not reply to it.")


def label(table: dict[str, str], key: str, language: str) -> str:
    return translate(language, table[key]) if key in table else key


def format_due(moment: datetime, timezone: str, language: str) -> str:
    """"11 de diciembre de 2026, 23:59" in the responsible authority's local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    language = check_language(language)
    return f"{format_date(local, 'long', locale=language)}, {format_time(local, 'short', locale=language)}"


def compose(
    *,
    level: str,
    kind: str,
    language: str,
    reference: str,
    counterpart: str,
    counterpart_reference: str | None,
    due_at: datetime,
    timezone: str,
    watch: bool,
    responsible: str,
) -> tuple[str, str]:
    """(subject, body) of one notice."""
    language = check_language(language)
    values = {
        "deadline": label(DEADLINE_LABELS, kind, language),
        "reference": reference,
        "due": format_due(due_at, timezone, language),
        "level": label(LEVEL_LABELS, level, language),
    }
    subject = translate(language, SUBJECTS.get(level, GENERIC_SUBJECT)).format(**values)
    if watch:
        explanation = translate(language, WATCH_EXPLANATION).format(authority=responsible)
    else:
        explanation = translate(language, EXPLANATIONS[level]) if level in EXPLANATIONS else ""
    lines = [
        subject,
        "",
        translate(language, CASE_LINE).format(
            reference=reference, counterpart=counterpart, counterpart_reference=counterpart_reference or "-"
        ),
        translate(language, DUE_LINE).format(due=values["due"], timezone=timezone),
        "",
        explanation,
        "",
        "-- ",
        translate(language, FOOTER),
    ]
    return subject, "\n".join(lines).replace("\n\n\n", "\n\n")


__all__ = ["DEADLINE_LABELS", "EVENT_LABELS", "LEVEL_LABELS", "compose", "format_due", "label"]
