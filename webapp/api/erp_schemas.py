"""The ERP API's marshmallow schemas, in one namespace: requests (erp_requests) and responses
(erp_responses)."""

from .erp_requests import *  # noqa: F403
from .erp_responses import *  # noqa: F403
