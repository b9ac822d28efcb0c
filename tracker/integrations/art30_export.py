"""The data map as a GDPR Art. 30(1) record of processing activities: CSV and XLSX (openpyxl).

The columns follow the common controller-record templates (the supervisory authorities'
Art. 30 templates): purposes, categories of data subjects and of personal data, recipients,
transfers with their safeguards, erasure time limits and the security measures, with the
tracker's own columns (systems, jurisdictions, roles, DPIA) beside them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.domain.data_map_schema import (
    ActivitySpec,
    DpiaSpec,
    Recipient,
    RetentionRule,
    SystemSpec,
    Transfer,
)

RECORD_SHEET = "Art. 30 record"
SYSTEMS_SHEET = "Systems"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

#: (header, width in characters in the XLSX)
RECORD_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Activity id", 18),
    ("Name of the processing", 28),
    ("Purposes of the processing", 44),
    ("Legal basis (per jurisdiction)", 28),
    ("Categories of data subjects", 24),
    ("Categories of personal data", 34),
    ("Recipients", 36),
    ("Transfers to third countries and safeguards", 38),
    ("Retention (period and trigger per data category)", 44),
    ("Systems", 28),
    ("Technical and organisational measures", 36),
    ("DPIA required", 12),
    ("DPIA reason", 40),
    ("Owner", 24),
    ("Jurisdictions", 16),
    ("Role of the organisation", 22),
    ("Status", 10),
)
SYSTEM_COLUMNS: tuple[tuple[str, int], ...] = (
    ("System id", 22),
    ("Name", 28),
    ("Description", 44),
    ("Owner", 24),
    ("Jira project", 12),
    ("Jira components", 20),
    ("Surfaces", 24),
    ("Hosted in", 12),
    ("Processing activities", 30),
)

#: What a spreadsheet may read as a formula when it starts a cell (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 (and so an XLSX file) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = tuple[str, ...]  # the parts of one cell: joined by "; " in CSV and by lines in XLSX


@dataclass(frozen=True)
class Art30Record:
    """The rows of both sheets, each cell as its parts."""

    record: list[list[Cell]]
    systems: list[list[Cell]]


def art30_record(
    activities: Sequence[ActivitySpec], systems: Sequence[SystemSpec], dpias: Sequence[DpiaSpec]
) -> Art30Record:
    """Return the Art. 30 record rows of the activities and the rows of their systems."""
    names = {system.id: system.name for system in systems}
    dpias_of: dict[str, list[DpiaSpec]] = {}
    for dpia in dpias:
        dpias_of.setdefault(dpia.activity, []).append(dpia)
    record = [
        _record_row(activity, names, dpias_of.get(activity.id, [])) for activity in activities
    ]
    users: dict[str, list[str]] = {}
    for activity in activities:
        for system_id in activity.systems:
            users.setdefault(system_id, []).append(activity.id)
    rows = [_system_row(system, users.get(system.id, [])) for system in systems]
    return Art30Record(record=record, systems=rows)


def to_csv(record: Art30Record) -> str:
    """Return the Art. 30 record as CSV, every cell safe from spreadsheet formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _ in RECORD_COLUMNS])
    for row in record.record:
        writer.writerow([csv_cell("; ".join(cell)) for cell in row])
    return out.getvalue()


def to_xlsx(record: Art30Record) -> bytes:
    """Return the workbook: the record and its systems, bold frozen headers, fitted widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    for blank in list(workbook.worksheets):
        workbook.remove(blank)
    for title, columns, rows in (
        (RECORD_SHEET, RECORD_COLUMNS, record.record),
        (SYSTEMS_SHEET, SYSTEM_COLUMNS, record.systems),
    ):
        sheet = workbook.create_sheet(title)
        sheet.append([header for header, _ in columns])
        for header_cell in sheet[1]:
            header_cell.font = Font(bold=True)
            header_cell.alignment = Alignment(vertical="top", wrap_text=True)
        for row in rows:
            sheet.append([_xlsx_text("\n".join(cell)) for cell in row])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                cell.data_type = "s"  # text, never a formula, whatever it starts with
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        for index, (_, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_cell(text: str) -> str:
    """Return the text with a leading ' when a spreadsheet would read it as a formula."""
    # Spreadsheets skip leading blanks before they look for a formula.
    return "'" + text if text.lstrip(" \u00a0").startswith(_FORMULA_START) else text


# --- private helpers ---------------------------------------------------------------------------


def _record_row(activity: ActivitySpec, names: dict[str, str], dpias: list[DpiaSpec]) -> list[Cell]:
    measures: list[str] = []
    for dpia in dpias:
        obligations = sorted(
            {
                obligation
                for risk in dpia.risks
                for mitigation in risk.mitigations
                for obligation in mitigation.obligations
            }
        )
        measures.append(f"DPIA {dpia.id}")
        if obligations:
            measures.append(f"mitigating obligations: {', '.join(obligations)}")
    return [
        (activity.id,),
        (activity.name,),
        (activity.purpose,),
        tuple(f"{code}: {_words(basis)}" for code, basis in activity.legal_basis.items()),
        tuple(activity.data_subjects),
        tuple(activity.data_categories),
        tuple(_recipient(recipient) for recipient in activity.recipients),
        tuple(_transfer(transfer) for transfer in activity.transfers),
        tuple(_retention(activity, rule) for rule in activity.retention),
        tuple(f"{names.get(system_id, system_id)} ({system_id})" for system_id in activity.systems),
        tuple(measures),
        ("yes" if activity.dpia.required else "no",),
        (activity.dpia.reason,),
        (activity.owner or "",),
        tuple(activity.jurisdictions),
        tuple(_words(role) for role in activity.roles),
        (activity.status,),
    ]


def _recipient(recipient: Recipient) -> str:
    where = f", {recipient.country}" if recipient.country else ""
    purpose = f": {recipient.purpose}" if recipient.purpose else ""
    return f"{recipient.name} ({_words(recipient.kind)}{where}){purpose}"


def _transfer(transfer: Transfer) -> str:
    recipient = f" ({transfer.recipient})" if transfer.recipient else ""
    note = f"; {transfer.note}" if transfer.note else ""
    return f"to {transfer.to}{recipient}: {_words(transfer.mechanism)}{note}"


def _retention(activity: ActivitySpec, rule: RetentionRule) -> str:
    systems = rule.systems or activity.systems
    trigger = _words(rule.trigger)
    return (
        f"{', '.join(rule.data_categories)}: {rule.period} from {trigger} (in {', '.join(systems)})"
    )


def _system_row(system: SystemSpec, activities: list[str]) -> list[Cell]:
    return [
        (system.id,),
        (system.name,),
        (system.description or "",),
        (system.owner or "",),
        (system.jira.project if system.jira else "",),
        tuple(system.jira.components) if system.jira else (),
        tuple(system.surfaces),
        tuple(system.hosted_in),
        tuple(activities),
    ]


def _words(code: str) -> str:
    return code.replace("_", " ")


def _xlsx_text(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)
