"""Personal-data protection: access log of personal-data reads, retention by pseudonymisation (keeping audit
chains and statistics verifiable), and the data-subject access export (JSON + PDF)."""

from __future__ import annotations

from engine.privacy._access import (
    CHANNELS,
    AccessLogBreak,
    Read,
    Witness,
    access_log,
    heads,
    read_case,
    record_access,
    record_accesses,
    verify_access_log,
    verify_access_logs,
)
from engine.privacy._errors import (
    AccessLogBusy,
    AccessLogUnavailable,
    CaseNotClosed,
    InvalidRetention,
    NotAuthorisedForPersonalData,
    SubjectQueryEmpty,
)
from engine.privacy._export import FORMAT, find_subject_cases, subject_export
from engine.privacy._export_pdf import JSON_NAME, json_bytes, subject_html, subject_pdf
from engine.privacy._files import FILE_ACTION, files_of_case, outside_files, record_files
from engine.privacy._personal import REDACTED, SubjectQuery, matching_persons, pseudonymise
from engine.privacy._retention import (
    REDACT_ACTION,
    DueCase,
    RetentionSummary,
    due_cases,
    get_policy,
    list_policies,
    redact_case,
    redact_due,
    run_retention,
    set_policy,
)
from engine.privacy._scrub import ScrubResult, scrub

__all__ = [
    "CHANNELS",
    "FILE_ACTION",
    "FORMAT",
    "JSON_NAME",
    "REDACTED",
    "REDACT_ACTION",
    "AccessLogBreak",
    "AccessLogBusy",
    "AccessLogUnavailable",
    "CaseNotClosed",
    "DueCase",
    "InvalidRetention",
    "NotAuthorisedForPersonalData",
    "Read",
    "RetentionSummary",
    "ScrubResult",
    "SubjectQuery",
    "SubjectQueryEmpty",
    "Witness",
    "access_log",
    "heads",
    "due_cases",
    "files_of_case",
    "find_subject_cases",
    "get_policy",
    "json_bytes",
    "list_policies",
    "matching_persons",
    "outside_files",
    "pseudonymise",
    "read_case",
    "record_access",
    "record_accesses",
    "record_files",
    "redact_case",
    "redact_due",
    "run_retention",
    "scrub",
    "set_policy",
    "subject_export",
    "subject_html",
    "subject_pdf",
    "verify_access_log",
    "verify_access_logs",
]
