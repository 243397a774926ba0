"""marshmallow schemas of the API's requests and responses; the OpenAPI document is built from them."""

from marshmallow import EXCLUDE, Schema, fields, validate

from ..bounds import BoundedInteger
from ..services import inbox


class TokenRequest(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenResponse(Schema):
    token = fields.String(required=True)


class ErrorResponse(Schema):
    code = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(required=True)


class ProcessDefinition(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    versions = fields.List(fields.Integer(), required=True)


class Form(Schema):
    schema = fields.Dict(required=True)
    ui_schema = fields.Dict(required=True)


class SignatureRequirement(Schema):
    required = fields.Boolean(required=True)
    meaning = fields.String(required=True)
    count = fields.Integer()
    separate_from = fields.List(fields.String())
    signed = fields.Integer()


class SignatureRecord(Schema):
    id = fields.Integer(required=True)
    task_id = fields.String(required=True)
    bpmn_id = fields.String(required=True)
    signer = fields.String(required=True)
    printed_name = fields.String(required=True)
    signed_at = fields.DateTime(required=True)
    meaning = fields.String(required=True)
    content_hash = fields.String(required=True)
    valid = fields.Boolean(required=True)
    changed_after_signing = fields.Dict(allow_none=True)


class SignatureRequest(Schema):
    password = fields.String(required=True, load_only=True)
    meaning = fields.String(
        required=True, validate=validate.OneOf(["approved", "reviewed", "released", "rejected", "authored"])
    )
    username = fields.String()


class Task(Schema):
    id = fields.String(required=True)
    process_instance_id = fields.Integer(required=True)
    bpmn_id = fields.String(required=True)
    title = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["userTask", "manualTask"]))
    lane = fields.String(allow_none=True)
    instructions = fields.String(required=True)
    form = fields.Nested(Form, allow_none=True)
    assignee = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    candidate_role = fields.String(allow_none=True)
    signature = fields.Nested(SignatureRequirement, allow_none=True)


class ProcessInstance(Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["running", "completed", "error", "cancelled"]))
    business_key = fields.String(required=True)
    data = fields.Dict(required=True)
    ready_tasks = fields.List(fields.Nested(Task), required=True)
    initiator = fields.String()
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    signatures = fields.List(fields.Nested(SignatureRecord))
    incidents = fields.List(fields.Dict())
    pending_messages = fields.List(fields.Dict())


class StartInstanceRequest(Schema):
    process_key = fields.String(required=True)
    data = fields.Dict(load_default=dict)
    version = BoundedInteger(load_default=None, allow_none=True)


class CompleteTaskRequest(Schema):
    data = fields.Dict(required=True)
    signature = fields.Nested(SignatureRequest)


class CompleteTaskResponse(Schema):
    process_instance = fields.Nested(ProcessInstance, required=True)


class CancelRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1))


class DeployedProcess(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)
    created = fields.Boolean()


class DeploymentResponse(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    processes = fields.List(fields.Nested(DeployedProcess), required=True)
    warnings = fields.List(fields.Dict())


class DeploymentDecisionRequest(Schema):
    approve = fields.Boolean(required=True)
    signature = fields.Nested(SignatureRequest)
    reason = fields.String(load_default="")


class MigrateRequest(Schema):
    version = BoundedInteger(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))


class TaskListArgs(Schema):
    """The query string of GET /tasks (other parameters are ignored, as they always were); `mine` is
    a boolean (true/false, 1/0, yes/no, on/off): anything else is a 400, not silently false."""

    class Meta:
        unknown = EXCLUDE

    process_instance_id = BoundedInteger(load_default=None)
    mine = fields.Boolean(load_default=False)
    # Paging and narrowing (the answer stays a JSON array; X-Total-Count, X-Next-Cursor and a Link
    # header with rel="next" carry the rest), so a role with 100k open tasks answers one bounded page.
    limit = fields.Integer(load_default=inbox.DEFAULT_PAGE, validate=validate.Range(1, inbox.MAX_PAGE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    process = fields.String(load_default=None, validate=validate.Length(max=120))
    role = fields.String(load_default=None, validate=validate.Length(max=80))
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    due = fields.String(load_default=None, validate=validate.OneOf(inbox.DUE_FILTERS))
    sort = fields.String(load_default="due", validate=validate.OneOf(inbox.SORTS))
