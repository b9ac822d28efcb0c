"""The words of applicability: what a proposal says, the catalog's dimensions, its category words.

CATEGORY_WORDS maps the catalog's data-category words (`ephi`, `special_category_data` ...) to
the Fides data categories each covers; a word not listed cannot be decided from the data map.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProposalKind(StrEnum):
    """What the data map says about an obligation."""

    APPLICABLE = "applicable"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


#: The catalog's applicability dimensions, in the order reasons name them.
DIMENSIONS = ("roles", "jurisdictions", "data_categories", "surfaces")

PROPOSAL_WORDS = {
    ProposalKind.APPLICABLE: "applicable",
    ProposalKind.NOT_APPLICABLE: "not applicable",
    ProposalKind.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class CategoryWord:
    """A catalog data-category word and the Fides categories it covers (each with its children)."""

    label: str
    fides_keys: tuple[str, ...]


_HEALTH = ("user.health_and_medical", "user.biometric.health")
_BIOMETRIC = ("user.biometric", "user.authorization.biometric")
#: GDPR Art. 9(1) and LGPD art. 5, II (criminal convictions, GDPR Art. 10, are kept with them:
#: the duties written for special categories are the ones that protect such data too).
_SPECIAL = (
    *_HEALTH,
    *_BIOMETRIC,
    "user.demographic.race_ethnicity",
    "user.demographic.political_opinion",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.criminal_history",
)
#: CCPA § 1798.140(ae): government ids, financial account and card numbers, account
#: credentials, precise geolocation, racial or ethnic origin, religious beliefs, private
#: communications, genetic, biometric and health data, sex life or sexual orientation.
_CCPA_SENSITIVE = (
    "user.government_id",
    "user.financial.bank_account",
    "user.financial.credit_card",
    "user.authorization.credentials",
    "user.authorization.password",
    "user.location.precise",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.content.private",
    *_HEALTH,
    *_BIOMETRIC,
)

#: The catalog's data-category words and the Fides data categories each one covers. A word not
#: listed here cannot be decided from the data map (its proposal is `unknown`).
CATEGORY_WORDS: dict[str, CategoryWord] = {
    "personal_data": CategoryWord("personal data", ("user",)),
    "personal_information": CategoryWord("personal information", ("user",)),
    "ephi": CategoryWord("ePHI", _HEALTH),
    "unsecured_phi": CategoryWord("unsecured PHI", _HEALTH),
    "special_category_data": CategoryWord("special category data", _SPECIAL),
    "sensitive_personal_data": CategoryWord("sensitive personal data", _SPECIAL),
    "sensitive_personal_information": CategoryWord(
        "sensitive personal information", _CCPA_SENSITIVE
    ),
    "children_data": CategoryWord("children's data", ("user.childrens",)),
    "minors_data": CategoryWord("minors' data", ("user.childrens",)),
}


def category_label(word: str) -> str:
    """Return a data-category word in words, with the Fides categories it covers."""
    mapped = CATEGORY_WORDS.get(word)
    if mapped is None:
        return word.replace("_", " ")
    return f"{mapped.label} ({', '.join(mapped.fides_keys)})"
