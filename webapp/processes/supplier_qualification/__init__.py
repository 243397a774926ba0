"""The 供应商资质 supplier qualification process: BPMN, DMN and forms in processes/supplier_qualification/; here its glue:
operations.py, the `supplier.*` service-task operations (certificates, approved scope, the scorecard). Tests: tests/integration/test_process_supplier_qualification.py.
"""

from .. import ProcessPackage
from . import operations

PACKAGE = ProcessPackage(key="supplier_qualification", register_operations=operations.register)
