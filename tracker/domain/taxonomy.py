"""The Fides taxonomy's data categories, data subjects and data uses: what the data map names."""

from __future__ import annotations

from functools import cache


@cache
def data_categories() -> frozenset[str]:
    """Return the keys of Fides' default data categories, e.g. `user.contact.email`."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_category)


@cache
def data_subjects() -> frozenset[str]:
    """Return the keys of Fides' default data subjects, e.g. `customer`, `patient`."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_subject)


@cache
def data_uses() -> frozenset[str]:
    """Return the keys of Fides' default data uses, e.g. `essential.service.payment_processing`."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_use)


def is_within(category: str, ancestor: str) -> bool:
    """Tell whether a category is the ancestor itself or one of its descendants."""
    return category == ancestor or category.startswith(ancestor + ".")
