"""The document-control process (文件控制): BPMN and forms in processes/document_control/; here its glue.

- operations.py: the `document.*` service-task operations;
- models.py, records.py: controlled documents and their versions, kept only through the operations;
- training.py: training records (assigned on approval, completed by a "read and understood"
  signature and, with a quiz, its pass mark), the matrix and the overdue reminders;
- gates.py: the task gates (`requiresTraining`, `requiresReleasedDocuments`);
- views.py: the records as plain data (API answers, pages);
- pages.py, api.py, templates/document_control/: the register, a document's page, my training.
Tests: tests/integration/test_process_document_control.py.
"""

from .. import ProcessPackage
from . import api, gates, models, operations, pages, training

PACKAGE = ProcessPackage(
    key="document_control",
    models=models,
    register_operations=operations.register,
    add_pages=pages.add_pages,
    add_api=api.add_routes,
    openapi_paths=api.OPENAPI_PATHS,
    task_gates=(gates.training_gate, gates.released_documents_gate),
    sweep_jobs=(training.remind_overdue,),
)
