"""How the tracker's own reason sentences are shown in pages: their `quoted` names as code."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`\n]{1,200})`")


def code_spans(value: object) -> Markup:
    """Escape a sentence and show its `quoted` names as code, as the reasons write them."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(str(value)))))  # noqa: S704 - escaped above
