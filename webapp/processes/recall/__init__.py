"""The recall process (召回): BPMN, DMN and forms in processes/recall/; here its glue.

- operations.py: the `recall.*` service-task operations;
- models.py, records.py: the recall record and its notices, kept only through the operations;
- pages.py, api.py, templates/recall/: the recall pages under /erp and GET /api/v1/recalls/<key>.
Tests: tests/integration/test_process_recall.py. Demo: webapp/demo_processes.py (the shared demo story).
"""

from .. import ProcessPackage
from . import api, models, operations, pages

PACKAGE = ProcessPackage(
    key="recall",
    models=models,
    register_operations=operations.register,
    add_pages=pages.add_pages,
    add_api=api.add_routes,
    openapi_paths=api.OPENAPI_PATHS,
)
