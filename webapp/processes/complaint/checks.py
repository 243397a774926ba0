"""The complaint's checks of its task forms beyond JSON Schema (services/task_checks.py)."""

from . import records


def intake(submitted, task_data, instance):
    """Awareness date not in the future; the lot of the product; lot or serial shipped; the UDI."""
    return records.intake_errors(submitted)


def regulator_report(submitted, task_data, instance):
    """A late report needs the reason."""
    return records.report_errors(submitted, task_data)


CHECKS = {
    "cp_intake": intake,
    "regulator_reports_task": regulator_report,
    "added_reports_sub_task": regulator_report,
}
