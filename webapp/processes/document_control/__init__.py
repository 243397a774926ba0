"""The document-control process (文件控制): BPMN and forms in processes/document_control/; here its glue.

- operations.py: the `document.*` service-task operations;
- models.py, records.py: controlled documents and their versions, kept only through the operations;
- training.py: training records (assigned on approval, completed by a "read and understood"
  signature) and the task gates (`requiresTraining`, `requiresReleasedDocuments`);
- pages.py, api.py, templates/document_control/: the register, a document's page, my training.
Tests: tests/integration/test_process_document_control.py.
"""

from .. import ProcessPackage
from . import api, models, operations, pages, training

PACKAGE = ProcessPackage(
    key="document_control",
    models=models,
    register_operations=operations.register,
    add_pages=pages.add_pages,
    add_api=api.add_routes,
    openapi_paths=api.OPENAPI_PATHS,
    task_gates=(training.training_gate, training.released_documents_gate),
    sweep_jobs=(training.remind_overdue,),
)
