"""Names of the controlled values a form may hold (measures, refusal grounds, roles, …) as gettext msgids.

Field labels live in the schemas themselves (``title`` in English, ``x-title`` for es/pt/fr) because they
belong to a schema version; coded values are shared by several schemas and versions, so their names live in
the catalogs.
An enumeration is recognised by its set of values, so the same list used by two forms gets the same names.
"""

from __future__ import annotations

from functools import cache

from engine.i18n import C_, N_

ENUM_LABELS: tuple[dict[str, str], ...] = (
    {  # legal_basis.kind
        "convention": N_("Multilateral convention"),
        "treaty": N_("Treaty"),
        "reciprocity": N_("Reciprocity"),
    },
    {  # legal_basis.instrument
        # Official short titles with place and year; each language's msgstr is that language's official title
        # (sources in locales/glossary.csv). There is no "Ibero-American Convention on the taking of evidence
        # (2010)": the 2010 COMJIB instrument is the Mar del Plata convention on videoconference. The code stays
        # here only so that a request stored before its removal (schema request v1) still renders, named as what
        # it is; the current schema no longer offers it.
        "EIO": N_("Directive 2014/41/EU regarding the European Investigation Order in criminal matters"),
        "EU_MLA_2000": N_(
            "Convention on Mutual Assistance in Criminal Matters between the Member States of the European Union"
            " (2000)"
        ),
        "CoE_MLA_1959": N_("European Convention on Mutual Assistance in Criminal Matters (Strasbourg, 1959)"),
        "MEDELLIN": N_(
            "Treaty on the electronic transmission of requests for international legal cooperation between central"
            " authorities (Medellín, 2019)"
        ),
        "MAR_DEL_PLATA_2010": N_(
            "Ibero-American Convention on the use of videoconferencing in international cooperation between"
            " justice systems (Mar del Plata, 2010)"
        ),
        "IBERAMERICAN_MLA_2010": N_("Unknown instrument (code IBERAMERICAN_MLA_2010, withdrawn: no such treaty)"),
        "OAS_NASSAU_1992": N_(
            "Inter-American Convention on Mutual Assistance in Criminal Matters (Nassau, 1992)"
        ),
        "UNTOC": N_("United Nations Convention against Transnational Organized Crime (Palermo, 2000)"),
        "UNCAC": N_("United Nations Convention against Corruption (Mérida, 2003)"),
        "VIENNA_1988": N_(
            "United Nations Convention against Illicit Traffic in Narcotic Drugs and Psychotropic Substances"
            " (Vienna, 1988)"
        ),
        "BUDAPEST": N_("Convention on Cybercrime (Budapest, 2001)"),
        "BILATERAL": N_("Bilateral treaty"),
        "RECIPROCITY": N_("Principle of reciprocity"),
    },
    {  # urgency.level
        "normal": N_("Ordinary"),
        "urgent": N_("Urgent"),
    },
    {  # confidentiality.level
        "normal": N_("Not confidential"),
        "confidential": N_("Confidential"),
        "strictly_confidential": N_("Strictly confidential"),
    },
    {  # procedural_stage
        "preliminary_investigation": N_("Preliminary investigation"),
        "investigation": N_("Criminal investigation"),
        "prosecution": N_("Prosecution"),
        "trial": N_("Trial"),
        "appeal": N_("Appeal"),
        "enforcement": N_("Enforcement of the sentence"),
    },
    {  # person.role
        "suspect": N_("Suspect"),
        "accused": N_("Accused person"),
        "witness": N_("Witness"),
        "victim": N_("Victim"),
        "expert": N_("Expert"),
        "company": N_("Legal person"),
        "other": N_("Other person concerned"),
    },
    {  # identity_document.type
        "passport": N_("Passport"),
        "national_id": N_("National identity card"),
        "residence_permit": N_("Residence permit"),
        "driving_licence": N_("Driving licence"),
        "tax_id": N_("Tax identification number"),
        "company_registration": N_("Company registration number"),
        "other": N_("Other document"),
    },
    {  # measure.type
        "obtain_documents": N_("Obtaining documents"),
        "bank_records": N_("Banking and financial information"),
        "search_and_seizure": N_("Search and seizure"),
        "witness_hearing": N_("Hearing of a witness"),
        "suspect_hearing": N_("Hearing of a suspect or accused person"),
        "service_of_documents": N_("Service of documents"),
        "asset_tracing": N_("Tracing of assets"),
        "freezing": N_("Freezing of assets"),
        "confiscation": N_("Confiscation"),
        "transfer_of_detained_person": N_("Temporary transfer of a detained person"),
        "joint_investigation_team": N_("Joint investigation team"),
    },
    {  # measure.hearing_mode
        "in_person": N_("In person"),
        "videoconference": N_("By videoconference"),
        "telephone": N_("By telephone conference"),
    },
    {  # refusal.grounds
        "immunity_privilege": N_("Immunity or privilege"),
        "national_security": N_("Harm to essential national security interests"),
        "not_authorised_domestically": N_("Measure not authorised in a similar domestic case"),
        "ne_bis_in_idem": N_("Ne bis in idem"),
        "territoriality": N_("Territoriality"),
        "fundamental_rights": N_("Incompatibility with fundamental rights"),
        "no_double_criminality": N_("Lack of double criminality"),
        "measure_restricted": N_("Measure restricted to certain offences"),
        "other": N_("Other ground"),
    },
    {  # postponement.ground
        "ongoing_investigation": N_("Prejudice to an ongoing investigation or prosecution"),
        "evidence_in_use": N_("Evidence already used in other proceedings"),
        "other": N_("Other ground"),
    },
    {  # execution_report.report_type
        "partial": N_("Partial report"),
        "final": N_("Final report"),
    },
    {  # measure_executed.status: agrees with "measure" (es medida, fr mesure: feminine)
        "executed": C_("measure", "Executed"),
        "partially_executed": C_("measure", "Partially executed"),
        "not_executed": C_("measure", "Not executed"),
    },
    {  # execution_report asset.kind
        "account": N_("Bank or payment account"),
        "real_estate": N_("Real estate"),
        "vehicle": N_("Vehicle, vessel or aircraft"),
        "crypto": N_("Crypto-assets"),
        "other": N_("Other asset"),
    },
    {  # closure.outcome: agrees with "request" (es solicitud, pt pedido, fr demande)
        "executed": C_("outcome", "Executed"),
        "partially_executed": C_("outcome", "Partially executed"),
        "refused": C_("outcome", "Refused"),
        "withdrawn": C_("outcome", "Withdrawn"),
        "not_executed": C_("outcome", "Not executed"),
        "lapsed": C_("outcome", "Lapsed"),
    },
)

YES, NO = N_("Yes"), N_("No")


@cache
def _index(values: frozenset[str]) -> dict[str, str] | None:
    # The smallest known list containing every value of the schema's enum: "other" alone is ambiguous, the
    # whole list is not.
    candidates = [labels for labels in ENUM_LABELS if values <= labels.keys()]
    return min(candidates, key=len) if candidates else None


def enum_msgid(enum: tuple[str, ...] | list[str], value: str) -> str | None:
    """The msgid naming ``value`` of a schema enumeration; None for a value nobody has named (shown as is)."""
    labels = _index(frozenset(str(v) for v in enum))
    return labels.get(value) if labels else None
