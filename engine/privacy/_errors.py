"""Errors of the privacy area, part of the :mod:`engine.errors` tree."""

from __future__ import annotations

from engine.errors import Conflict, ExhortoError, InvalidInput
from engine.i18n import N_


class InvalidRetention(InvalidInput):
    code = "invalid_retention"
    template = N_("Invalid retention period {years}: give a whole number of years between 1 and 100.")


class SubjectQueryEmpty(InvalidInput):
    code = "subject_query_empty"
    template = N_(
        "Say whom to look for: a surname (with or without given names and birth date) or an "
        "identity document number."
    )


class AccessLogBusy(Conflict):
    code = "access_log_busy"
    template = N_("The access log of {authority} is busy; the read was not recorded. Try again.")


class AccessLogUnavailable(ExhortoError):
    code = "access_log_unavailable"
    template = N_(
        "The access log of {authority} could not be written, so the personal data was not shown. Try again; if "
        "it persists, tell the administrator."
    )


class NotAuthorisedForPersonalData(ExhortoError):
    code = "personal_data_forbidden"
    template = N_("User {user} of {authority} may not read personal data of authority {owner}.")


class CaseNotClosed(InvalidInput):
    code = "case_not_closed"
    template = N_("Case {case} is {state}: only closed or withdrawn cases can be pseudonymised.")
