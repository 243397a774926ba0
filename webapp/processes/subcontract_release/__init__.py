"""The 委外加工放行 subcontract release process: BPMN, DMN and forms in processes/subcontract_release/; here its glue:
operations.py, the `subcontract.*` service-task operations (ledger movements to and from the subcontractor, the sampling plan, release). Tests: tests/integration/test_process_subcontract_release.py.
"""

from .. import ProcessPackage
from . import operations

PACKAGE = ProcessPackage(key="subcontract_release", register_operations=operations.register)
