"""Validating task data against a task's JSON-Schema form, with per-field messages."""

from jsonschema import Draft202012Validator, FormatChecker

from ..errors import FormInvalid

_FORMAT_CHECKER = FormatChecker()


def _field_paths(error):
    """Dotted paths of the fields an error is about; a `required` error names every missing child."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        if missing:
            return [".".join([*path, name]) for name in missing]
    return [".".join(path) or "_form"]


def _message(error):
    messages = {
        "required": "required",
        "type": f"must be of type {error.validator_value}",
        "enum": "must be one of the listed values",
        "format": f"must be a valid {error.validator_value}",
        "minItems": f"needs at least {error.validator_value} item(s)",
        "minLength": "required" if error.validator_value == 1 else f"needs at least {error.validator_value} characters",
        "maxLength": f"at most {error.validator_value} characters",
        "minimum": f"must be at least {error.validator_value}",
        "maximum": f"must be at most {error.validator_value}",
    }
    return messages.get(error.validator, error.message)


def validation_errors(schema, data):
    """A mapping of field path → message for every violation of `schema` by `data` (empty when valid)."""
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        for path in _field_paths(error):
            errors.setdefault(path, _message(error))
    return errors


_BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")


def _declared(schema):
    """The property schemas an object schema declares, its conditional branches included (a field
    shown only when another has some value is still the form's own), and whether it declares a
    deliberate map (`additionalProperties` given as a schema)."""
    properties, open_map = dict(schema.get("properties") or {}), isinstance(schema.get("additionalProperties"), dict)
    branches = [schema[k] for k in ("then", "else") if isinstance(schema.get(k), dict)]
    for key in ("allOf", "anyOf", "oneOf"):
        branches.extend(b for b in schema.get(key) or [] if isinstance(b, dict))
    branches.extend(s for s in (schema.get("dependentSchemas") or {}).values() if isinstance(s, dict))
    for branch in branches:
        more, more_open = _declared(branch)
        for name, sub_schema in more.items():
            properties.setdefault(name, sub_schema)
        open_map = open_map or more_open
    return properties, open_map


def undeclared_fields(schema, data, path=()):
    """Paths in `data` that `schema` does not declare, nested objects and array items included: a
    task may write only its own form's fields (additionalProperties: false for every form, whatever
    the schema file says, unless it declares a map with an `additionalProperties` schema)."""
    found = []
    if isinstance(data, dict) and isinstance(schema, dict):
        properties, open_map = _declared(schema)
        for key, value in data.items():
            if key in properties:
                found += undeclared_fields(properties[key], value, (*path, key))
            elif not open_map:
                found.append(".".join(map(str, (*path, key))))
    elif isinstance(data, list) and isinstance(schema, dict) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(data):
            found += undeclared_fields(schema["items"], item, (*path, index))
    return found


def validate(schema, data):
    """Raise FormInvalid with per-field errors when `data` does not satisfy `schema`."""
    if not isinstance(data, dict):
        raise FormInvalid("task data must be an object", {"_form": "must be an object"})
    unknown = undeclared_fields(schema or {}, data)
    if unknown:
        what = "this task has no form and takes no data" if schema is None else "its form does not declare them"
        raise FormInvalid(
            f"the task may not write {', '.join(unknown)}: {what}",
            dict.fromkeys(unknown, "not a field of this task's form"),
        )
    if schema is None:
        return
    errors = validation_errors(schema, data)
    if errors:
        raise FormInvalid("the submitted data is invalid", errors)
