"""The closed word lists of the data map: roles, jurisdictions, transfer mechanisms, risk scale."""

from __future__ import annotations

from typing import Literal

#: The organisation's role in an activity, in the words the catalog's applicability tags use:
#: GDPR and LGPD speak of controllers and processors, the CCPA of businesses, service providers,
#: contractors and third parties, HIPAA of covered entities and business associates.
Role = Literal[
    "controller",
    "joint_controller",
    "processor",
    "business",
    "service_provider",
    "contractor",
    "third_party",
    "covered_entity",
    "business_associate",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

#: Where the people whose data is processed are, or where the processing takes place.
#: The catalog's jurisdictions and their neighbours; a code outside this list is an error.
JURISDICTIONS: dict[str, str] = {
    "EU": "European Union",
    "EEA": "European Economic Area",
    "UK": "United Kingdom",
    "CH": "Switzerland",
    "US": "United States (nationwide)",
    "US-CA": "California",
    "US-CO": "Colorado",
    "US-VA": "Virginia",
    "US-TX": "Texas",
    "BR": "Brazil",
    "CA": "Canada",
    "IN": "India",
    "JP": "Japan",
    "AU": "Australia",
    "SG": "Singapore",
}

#: A jurisdiction and the larger ones it lies within: an activity in California is in the US,
#: and GDPR's EU and EEA are read as one (the EEA applies the GDPR).
JURISDICTION_WITHIN: dict[str, frozenset[str]] = {
    "US-CA": frozenset({"US"}),
    "US-CO": frozenset({"US"}),
    "US-VA": frozenset({"US"}),
    "US-TX": frozenset({"US"}),
    "EU": frozenset({"EEA"}),
    "EEA": frozenset({"EU"}),
}

#: Where an obligation is implemented, in the catalog's words (its `surfaces` tags): a system
#: of the data map names the ones it is. A word outside this list is an error, so a typo cannot
#: quietly change which obligations apply.
SURFACES: dict[str, str] = {
    "web": "web pages",
    "mobile": "mobile apps",
    "public_api": "a public API",
    "backend_services": "back-end services",
    "data_platform": "data platform and analytics",
    "support_tooling": "support and back-office tools",
    "backups": "backups",
    "logging": "logs",
    "marketing": "marketing tools",
    "adtech": "advertising technology",
    "vendors": "vendors and processors",
    "infrastructure": "infrastructure",
    "identity": "identity and access",
    "incident_response": "incident response",
}

#: How personal data may leave its jurisdiction (GDPR Chapter V, LGPD art. 33 and their peers).
TransferMechanism = Literal[
    "adequacy_decision",
    "standard_contractual_clauses",
    "binding_corporate_rules",
    "data_privacy_framework",
    "consent",
    "contract_necessity",
    "derogation",
    "none_needed",
]

#: The lawful bases of GDPR Art. 6(1) and LGPD art. 7, and the US notions used in their place.
LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
    "credit_protection",
    "health_protection",
    "research",
    "exercise_of_rights",
    "notice_at_collection",
    "treatment_payment_operations",
    "authorization",
]

#: The DPIA risk scale: likelihood and impact are each scored 1 to 5 (see README's table).
RISK_SCALE_MIN = 1
RISK_SCALE_MAX = 5
LIKELIHOOD_WORDS: dict[int, str] = {
    1: "rare",
    2: "unlikely",
    3: "possible",
    4: "likely",
    5: "almost certain",
}
IMPACT_WORDS: dict[int, str] = {
    1: "negligible",
    2: "limited",
    3: "significant",
    4: "severe",
    5: "critical",
}

#: How often each kind of item is reviewed when its file names no cadence (days).
DEFAULT_REVIEW_EVERY_DAYS: dict[str, int] = {"obligation": 365, "activity": 365, "dpia": 365}


def within(jurisdiction: str) -> frozenset[str]:
    """Return the jurisdiction and those it lies within or is read as (EU and EEA)."""
    return frozenset({jurisdiction}) | JURISDICTION_WITHIN.get(jurisdiction, frozenset())
