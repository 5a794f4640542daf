"""Request bodies checked against Discord's OpenAPI description, plus limits the schema leaves out.

The spec (``backrun_bot/sandbox/discord_openapi/openapi.json``, MIT, from discord/discord-api-spec)
is loaded once per process; one validator per (operation, body shape) is compiled once and cached,
because a test run sends thousands of requests.

Discord's server is more lenient than its published schema in a few documented ways that
discord.py relies on, so the loaded copy is adjusted in memory (never on disk):

* snowflakes may be sent as JSON integers as well as strings;
* permission bitsets (``default_member_permissions``, ``permissions``, ``allow``, ``deny``) may be
  sent as strings of digits — discord.py always sends them so;
* ``oneOf`` is read as ``anyOf``: the spec's alternatives are told apart by their ``type`` (or are
  "this or null"), so a body matches at most one of them anyway, and the server does not check the
  published schema's "exactly one". It halves the cost of checking a reply with components (1.2 ms
  to 0.6 ms for /log's, with its Undo button), because ``anyOf`` stops at the first branch that
  fits, where ``oneOf`` tries every branch; this check runs in the bot's process in the tests and
  benchmarks, and Discord's own checks are not the bot's cost.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord:openapi"
JSON = dict[str, Any]

# Limits Discord enforces for bots that the schema states differently or not at all.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_CUSTOM_ID = 100
MAX_NONCE = 25


@dataclass(frozen=True)
class Problem:
    """One reason Discord would refuse a body: where (a JSON path), Discord's code, and why."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def describe(self) -> str:
        where = ".".join(str(p) for p in self.path) or "(body)"
        return f"{where}: {self.message}"


def errors_json(problems: Iterable[Problem]) -> JSON:
    """Discord's nested ``errors`` object: ``{"content": {"_errors": [{"code", "message"}]}}``."""
    root: JSON = {}
    for problem in problems:
        node = root
        for part in problem.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return root


# -- the spec ---------------------------------------------------------------------------------------


def _digits_or(schema: JSON) -> JSON:
    return {"anyOf": [schema, {"type": "string", "pattern": "^[0-9]{1,20}$"}]}


def _loosen(spec: JSON) -> None:
    """Make the schema accept what Discord's server accepts (see the module docstring)."""
    schemas = spec["components"]["schemas"]
    schemas["SnowflakeType"] = {
        "anyOf": [dict(schemas["SnowflakeType"]), {"type": "integer", "minimum": 0}],
    }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for name in ("default_member_permissions", "permissions", "allow", "deny"):
                    prop = props.get(name)
                    if isinstance(prop, dict) and "integer" in json.dumps(prop.get("type")):
                        props[name] = _digits_or(prop)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas)
    _one_of_as_any_of(spec)


def _one_of_as_any_of(node: Any) -> None:
    if isinstance(node, dict):
        if "oneOf" in node:
            assert "anyOf" not in node, "a schema with both oneOf and anyOf"
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _one_of_as_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _one_of_as_any_of(value)


@functools.cache
def load_spec() -> JSON:
    """Discord's OpenAPI document (loosened as described above), parsed once."""
    text = resources.files("backrun_bot.sandbox").joinpath("discord_openapi/openapi.json").read_text("utf-8")
    spec: JSON = json.loads(text)
    _loosen(spec)
    return spec


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(load_spec())
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _resolve(spec: JSON, ref: str) -> JSON:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    result: JSON = node
    return result


class OpenApiValidator:
    """Validates request bodies of operations of Discord's OpenAPI description."""

    def __init__(self) -> None:
        self._spec = load_spec()
        self._cache: dict[tuple[str, str, object], Any] = {}

    def has_operation(self, method: str, template: str) -> bool:
        return method.lower() in self._spec["paths"].get(template, {})

    def _body_schema_pointer(self, method: str, template: str) -> str | None:
        operation = self._spec["paths"].get(template, {}).get(method.lower())
        if operation is None or "requestBody" not in operation:
            return None
        return _pointer(
            "paths", template, method.lower(), "requestBody", "content", "application/json", "schema"
        )

    def _validator(self, method: str, template: str, body: Any) -> Any:
        """A compiled validator for this operation; for bodies that are one of several shapes told
        apart by ``type`` (interaction callbacks), the validator of the matching shape, so that
        errors say what is wrong with *that* shape instead of "not valid under any of"."""
        pointer = self._body_schema_pointer(method, template)
        if pointer is None:
            return None
        discriminator: object = None
        schema = _resolve(self._spec, "#" + pointer)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches and isinstance(body, dict) and "type" in body:
            for branch in branches:
                target = _resolve(self._spec, branch["$ref"]) if "$ref" in branch else branch
                allowed = (target.get("properties", {}).get("type") or {}).get("enum")
                if allowed is not None and body["type"] in allowed:
                    discriminator = branch.get("$ref")
                    break
        key = (method, template, discriminator)
        validator = self._cache.get(key)
        if validator is None:
            ref = f"{SPEC_URI}#{pointer}" if discriminator is None else f"{SPEC_URI}{discriminator}"
            validator = Draft202012Validator({"$ref": ref}, registry=_registry())
            self._cache[key] = validator
        return validator

    def validate(self, method: str, template: str, body: Any) -> list[Problem]:
        validator = self._validator(method, template, body)
        if validator is None:
            return []
        return [_problem(e) for e in validator.iter_errors(body)]


def _deepest(error: ValidationError) -> ValidationError:
    """For a failed anyOf/oneOf, the error of the branch the body was evidently meant for.

    Branches whose root type does not even match (``null`` when an object was sent, a string
    option shape for an integer...) are ignored; among the rest, the error deepest in the body
    says most. jsonschema's ``best_match`` tends to pick the ``null`` branch instead.
    """
    while error.context:
        branches: dict[object, list[ValidationError]] = {}
        for e in error.context:
            branches.setdefault(e.schema_path[0] if e.schema_path else None, []).append(e)
        plausible = [
            errors
            for errors in branches.values()
            if not any(
                (e.validator in ("type", "enum", "const") and len(e.relative_path) == 0)
                or (e.validator in ("enum", "const") and list(e.relative_path) == ["type"])
                for e in errors
            )
        ]
        if not plausible:
            chosen: ValidationError = best_match(error.context)
            return chosen
        # The branch with the fewest complaints is the one the sender meant.
        errors = min(plausible, key=len)
        error = max(errors, key=lambda e: len(e.absolute_path))
    return error


def _problem(error: ValidationError) -> Problem:
    if error.context:
        error = _deepest(error)
    path = tuple(error.absolute_path)
    keyword = error.validator
    value = error.validator_value
    if keyword in ("maxLength", "maxItems", "maxProperties"):
        return Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {value} or fewer in length.")
    if keyword in ("minLength", "minItems"):
        return Problem(path, "BASE_TYPE_MIN_LENGTH", f"Must be {value} or more in length.")
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "field"
        return Problem((*path, missing), "BASE_TYPE_REQUIRED", "This field is required")
    if keyword in ("enum", "const"):
        return Problem(path, "BASE_TYPE_CHOICES", f"Value must be one of {value!r}.")
    if keyword == "maximum":
        return Problem(path, "NUMBER_TYPE_MAX", f"Must be less than or equal to {value}.")
    if keyword == "minimum":
        return Problem(path, "NUMBER_TYPE_MIN", f"Must be greater than or equal to {value}.")
    if keyword == "type":
        return Problem(
            path, "BASE_TYPE_BAD_TYPE", f"Must be of type {value}, not {type(error.instance).__name__}."
        )
    message = error.message if len(error.message) < 200 else error.message[:200] + "…"
    return Problem(path, "BASE_TYPE_INVALID", message)


# -- limits the schema does not carry ---------------------------------------------------------------


def _components(items: Any) -> Iterator[tuple[tuple[str | int, ...], JSON]]:
    """Every component (recursively) with its path under ``components``."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        yield (index,), item
        for key in ("components", "accessory"):
            child = item.get(key)
            children = child if isinstance(child, list) else [child] if isinstance(child, dict) else []
            for sub_path, sub in _components(children):
                inner = sub_path if isinstance(child, list) else sub_path[1:]
                yield (index, key, *inner), sub


def _embed_length(embed: JSON) -> int:
    total = 0
    for key in ("title", "description"):
        total += len(embed.get(key) or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field_ in embed.get("fields") or []:
        if isinstance(field_, dict):
            total += len(field_.get("name") or "") + len(field_.get("value") or "")
    return total


def message_limits(body: Any, *, creating: bool, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
    """Discord's limits on a message body (create or edit) that the schema does not express."""
    if not isinstance(body, dict):
        return []
    problems: list[Problem] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        problems.append(
            Problem((*prefix, "content"), "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        )
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            problems.append(
                Problem((*prefix, "embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
            )
        total = sum(_embed_length(e) for e in embeds if isinstance(e, dict))
        if total > MAX_EMBED_TOTAL:
            problems.append(
                Problem(
                    (*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
                )
            )
    components = body.get("components")
    if isinstance(components, list):
        rows = [c for c in components if isinstance(c, dict) and c.get("type") == 1]
        if len(rows) > MAX_ACTION_ROWS:
            problems.append(
                Problem((*prefix, "components"), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            )
        seen: set[str] = set()
        for path, component in _components(components):
            custom_id = component.get("custom_id")
            if not isinstance(custom_id, str):
                continue
            where = (*prefix, "components", *path, "custom_id")
            if len(custom_id) > MAX_CUSTOM_ID:
                problems.append(Problem(where, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
            if custom_id in seen:
                problems.append(
                    Problem(
                        where, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                    )
                )
            seen.add(custom_id)
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        problems.append(Problem((*prefix, "nonce"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    mentions = body.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                problems.append(
                    Problem(
                        (*prefix, "allowed_mentions"),
                        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                        f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                    )
                )
    if creating and not any(
        body.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
    ):
        problems.append(Problem(prefix, "50006", "Cannot send an empty message"))
    return problems


def command_limits(commands: Any) -> list[Problem]:
    """Checks Discord makes on a bulk overwrite beyond the schema: unique names, required options
    before optional ones, lowercase names, a description for slash commands."""
    if not isinstance(commands, list):
        return []
    problems: list[Problem] = []
    seen: set[tuple[object, object]] = set()
    for index, command in enumerate(commands):
        if not isinstance(command, dict):
            continue
        kind = command.get("type") or 1
        key = (kind, command.get("name"))
        if key in seen:
            problems.append(
                Problem(
                    (index, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            )
        seen.add(key)
        if kind == 1:
            problems.extend(_option_limits(command, (index,)))
    return problems


def _option_limits(node: JSON, path: tuple[str | int, ...]) -> list[Problem]:
    problems: list[Problem] = []
    name = node.get("name")
    if isinstance(name, str) and (name != name.lower() or " " in name):
        problems.append(
            Problem((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        )
    if not node.get("description"):
        problems.append(Problem((*path, "description"), "BASE_TYPE_REQUIRED", "This field is required"))
    options = node.get("options") or []
    optional_seen = False
    names: set[object] = set()
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        where = (*path, "options", index)
        if option.get("name") in names:
            problems.append(
                Problem(
                    (*where, "name"),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                )
            )
        names.add(option.get("name"))
        if option.get("type") in (1, 2):
            problems.extend(_option_limits(option, where))
            continue
        if option.get("required"):
            if optional_seen:
                problems.append(
                    Problem(
                        where,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            optional_seen = True
        if option.get("choices") and option.get("autocomplete"):
            problems.append(
                Problem(
                    where,
                    "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                    "Autocomplete cannot be set with choices",
                )
            )
        sub_name = option.get("name")
        if isinstance(sub_name, str) and (sub_name != sub_name.lower() or " " in sub_name):
            problems.append(
                Problem((*where, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid")
            )
    return problems


def clone(value: Any) -> Any:
    """A deep copy of a JSON value (stored bodies must not change under the caller)."""
    return copy.deepcopy(value)
