"""The complaint process (投诉与不良事件): BPMN, DMN and forms in processes/complaint/; here its glue.

- operations.py, steps.py: the `complaint.*` service-task operations and the record changes they make;
- models.py, records.py: the complaint and its regulator reports (reads, views, the intake checks);
- checks.py: the intake and report checks beyond the forms' schemas (services/task_checks.py);
- pages.py, api.py, templates/complaint/: the complaint pages under /erp and the API under /api/v1.
Tests: tests/integration/test_process_complaint.py. Rules: rules/complaint.json.
"""

from .. import ProcessPackage
from . import api, checks, models, operations, pages

PACKAGE = ProcessPackage(
    key="complaint",
    models=models,
    register_operations=operations.register,
    add_pages=pages.add_pages,
    add_api=api.add_routes,
    openapi_paths=api.OPENAPI_PATHS,
    task_checks=checks.CHECKS,
)
