"""Jinja2 templates of the UI (``engine/web/templates/*.html.j2``), rendered in the reader's language.

Templates say ``{{ _("English msgid") }}``; the catalogs in ``locales/`` hold the translations (babel.cfg
extracts the templates). Dates, numbers and country names come from Babel through :mod:`engine.formatting`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine import formatting, forms
from engine.deadlines import messages as deadline_texts
from engine.errors import ExhortoError
from engine.evidence._kinds import EVIDENCE_KIND
from engine.i18n import C_, LANGUAGES, N_, translate
from engine.lifecycle import ACTION_LABELS, STATE_LABELS, State
from engine.web.schema_form import label as schema_label

EVIDENCE_MESSAGE = N_("Delivery evidence")

TEMPLATES = Path(__file__).with_name("templates")
# Each language named in itself, the variety shown where Portuguese has two (the switcher offers both).
LANGUAGE_NAMES = {"es": "Español", "pt_PT": "Português (Portugal)", "pt_BR": "Português (Brasil)", "en": "English",
                  "fr": "Français"}
ROLE_LABELS = {
    "clerk": N_("Clerk"),
    "judge": N_("Judge"),
    "supervisor": N_("Supervisor"),
    "auditor": N_("Auditor"),
    "system": N_("System"),
}
CLOCK_STATUS = {
    "running": N_("Running"),
    "paused": N_("Paused"),
    "met": N_("Met"),
    "cancelled": N_("Cancelled"),
}
MESSAGE_STATUS = {
    "pending": N_("Waiting for delivery"),
    "delivered": N_("Delivered"),
    "rejected": N_("Rejected"),
    "applied": N_("Applied"),
    "received": C_("message status", "Received"),
}
# Audit events that are not lifecycle actions (see engine.cases, engine.inbox, engine.outbox).
EVENT_LABELS = {
    "create": N_("Draft created"),
    "edit_draft": N_("Draft edited"),
    "receive": N_("Request received"),
    "delivery_confirmed": N_("Delivery confirmed"),
    "redact": N_("Personal data pseudonymised"),
    "retry_delivery": N_("Delivery retried by a supervisor"),
    "retry_notification": N_("Notification queued again by a supervisor"),
    "file_written": N_("File written outside the database"),  # engine.privacy.record_files (exhorto pdf, demo)
}

# Who acted, when it was not a person: "system:ES-MJ" (a message from that authority applied here) or a process.
AUTOMATIC = N_("{who} (automatic)")
PROCESS_LABELS = {
    "deadlines": N_("Deadline clocks"),
    "retention": N_("Data retention"),
    "demo": N_("Demonstration"),
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES)
    return env


def helpers(lang: str) -> dict[str, Any]:
    def _(msgid: str) -> str:
        return translate(lang, msgid)

    def when(value: datetime | str | None, timezone: str = "UTC") -> str:
        return formatting.format_datetime(value, lang, timezone, style="medium") if value else ""

    def day(value: datetime | str | None) -> str:
        return formatting.format_date(value, lang, style="medium") if value else ""

    def moment(value: datetime | str | None, timezone: str = "UTC") -> str:
        # Minutes and the zone named, no seconds: "23:59:59" of another zone's end of day reads as noise.
        return formatting.format_datetime(value, lang, timezone, style="long") if value else ""

    def wall_clock(value: str) -> str:
        """A form's wall-clock value (``2026-11-24T03:15``, already in the reader's zone) as the reader writes it."""
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            return value
        return babel_dates.format_datetime(local, format="medium", locale=formatting.locale(lang)).removesuffix(":00")

    def number(value: str) -> str:
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            return value
        return formatting.format_number(parsed, lang)

    def local_day(value: datetime | str | None, timezone: str) -> str:
        """The calendar day ``value`` falls on in ``timezone`` (the counterpart's wall calendar)."""
        if not value:
            return ""
        local = formatting.parse_datetime(value).astimezone(ZoneInfo(timezone))
        return formatting.format_date(local.date(), lang, style="medium")

    def country(code: str | None) -> str:
        return formatting.country_name(code, lang) if code else ""

    def state_label(state: str) -> str:
        return _(STATE_LABELS[State(state)]) if state in State._value2member_map_ else state

    def action_label(action: str) -> str:
        msgid = ACTION_LABELS.get(action) or EVENT_LABELS.get(action)
        return _(msgid) if msgid else action.replace("_", " ")

    def size(value: int) -> str:
        return formatting.format_size(value, lang)

    def clock_label(kind: str) -> str:
        return _(deadline_texts.DEADLINE_LABELS[kind]) if kind in deadline_texts.DEADLINE_LABELS else kind

    def clock_event(event: str) -> str:
        return _(deadline_texts.EVENT_LABELS[event]) if event in deadline_texts.EVENT_LABELS else event

    def level_label(name: str) -> str:
        return _(deadline_texts.LEVEL_LABELS[name]) if name in deadline_texts.LEVEL_LABELS else name

    def status_label(status: str, table: dict[str, str]) -> str:
        return _(table[status]) if status in table else status

    def form_label(kind: str) -> str:
        if kind == EVIDENCE_KIND:  # a message that carries delivery evidence, not a form
            return _(EVIDENCE_MESSAGE)
        try:
            return schema_label(forms.load_schema(kind), lang, kind)
        except ExhortoError:
            return kind.replace("_", " ")

    def role_label(role: str) -> str:
        return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role

    def colon(msgid: str) -> str:
        """A translated label followed by the colon as ``lang`` writes it ("Date\u202f:" in French)."""
        return formatting.with_colon(translate(lang, msgid), lang)

    def actor_label(actor: str | None) -> str:
        """A person's user name as is; ``system:ES-MJ`` as "ES-MJ (automatic)", ``system:deadlines`` as "Deadline
        clocks (automatic)" (the raw value goes under "Technical details")."""
        if not actor or not actor.startswith("system:"):
            return actor or ""
        who = actor.removeprefix("system:")
        return _(AUTOMATIC).format(who=_(PROCESS_LABELS[who]) if who in PROCESS_LABELS else who)

    def pgettext(context: str, msgid: str) -> str:
        return translate(lang, C_(context, msgid))

    return {
        "_": _,
        "pgettext": pgettext,
        "colon": colon,
        "colon_mark": formatting.with_colon("", lang),  # after a label that is not a msgid
        "role_label": role_label,
        "actor_label": actor_label,
        "clock_label": clock_label,
        "clock_event": clock_event,
        "level_label": level_label,
        "clock_status": lambda status: status_label(status, CLOCK_STATUS),
        "message_status": lambda status: status_label(status, MESSAGE_STATUS),
        "form_label": form_label,
        "lang": lang,
        "when": when,
        "day": day,
        "moment": moment,
        "wall_clock": wall_clock,
        "show_number": number,
        "local_day": local_day,
        "country": country,
        "state_label": state_label,
        "action_label": action_label,
        "size": size,
    }


def render_template(name: str, *, lang: str, **values: Any) -> str:
    return environment().get_template(name).render(**helpers(lang), **values)
