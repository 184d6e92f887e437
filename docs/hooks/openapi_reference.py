"""mkdocs hook: the API reference, rendered from the OpenAPI document the app serves.

The page ``api/reference.md`` holds a marker; this hook replaces it with every operation of
``/api/schema/openapi.json`` (method, path, summary, parameters, request body type, answers) and
the body types they name. The document is built the way the server builds it: ``create_app``
with its routes, completed by ``gourmet.openapi.complete``. Building the app opens no database
(the pool, caches and listeners start in the lifespan, which does not run here), so the settings
below only have to be valid: a database URL nobody connects to, a staff token so that none is
generated on disk.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

MARKER = "<!-- openapi-operations -->"
PAGE = "api/reference.md"
METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


def openapi_document() -> dict[str, Any]:
    """The completed OpenAPI document, as ``GET /api/schema/openapi.json`` answers it."""
    from gourmet.app import create_app
    from gourmet.config import DatabaseSettings, SecuritySettings, Settings
    from gourmet.openapi import complete

    with tempfile.TemporaryDirectory(prefix="gourmet-docs-") as data_dir:
        settings = Settings(
            _env_file=None,
            data_dir=Path(data_dir),
            database=DatabaseSettings(url="postgresql://docs@127.0.0.1:1/docs"),
            security=SecuritySettings(staff_token="docs-" * 8),
        )
        app = create_app(settings)
        document: dict[str, Any] = app.openapi_schema.to_schema()
        complete(app, document)
    return document


def _anchor(name: str) -> str:
    return "schema-" + name.lower()


def _type(schema: dict[str, Any]) -> str:
    """A schema as a short markdown type: links for named types, ``a | b`` for unions."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF_PREFIX)
        return f"[`{name}`](#{_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " \\| ".join(_type(each) for each in schema[key])
    if "enum" in schema:
        return " \\| ".join(f"`{value!r}`".replace("'", '"') for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']!r}`".replace("'", '"')
    kind = schema.get("type")
    if isinstance(kind, list):
        return " \\| ".join(_type({**schema, "type": each}) for each in kind)
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map to {_type(extra)}" if isinstance(extra, dict) else "`object`"
    if kind is None:
        return "any"
    detail = schema.get("format")
    return f"`{kind}`" + (f" ({detail})" if detail else "")


def _limits(schema: dict[str, Any]) -> str:
    names = {
        "minimum": "≥ {}",
        "maximum": "≤ {}",
        "exclusiveMinimum": "> {}",
        "exclusiveMaximum": "< {}",
        "minLength": "length ≥ {}",
        "maxLength": "length ≤ {}",
        "minItems": "items ≥ {}",
        "maxItems": "items ≤ {}",
        "pattern": "pattern `{}`",
    }
    found = [text.format(schema[key]) for key, text in names.items() if key in schema]
    if "default" in schema:
        found.append(f"default `{schema['default']!r}`".replace("'", '"'))
    return ", ".join(found)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _group(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "api" and len(parts) > 1:
        return parts[1]
    return "operations"


def _operation(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### {method.upper()} {path} {{ #{method}-{_slug(path)} }}", ""]
    if summary := operation.get("summary"):
        lines += [f"**{summary}**", ""]
    if description := operation.get("description"):
        lines += [" ".join(description.split()), ""]
    params = operation.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
        for param in params:
            lines.append(
                f"| `{param['name']}` | {param['in']} | {_type(param.get('schema', {}))} "
                f"| {'yes' if param.get('required') else 'no'} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        kinds = ", ".join(
            f"{_type(media.get('schema', {}))} as `{name}`"
            for name, media in body.get("content", {}).items()
        )
        lines += [f"Request body: {kinds}" + ("" if body.get("required") else " (optional)"), ""]
    else:
        lines += ["Request body: none", ""]
    lines += ["| answer | meaning | body |", "|---|---|---|"]
    for status, response in sorted(operation.get("responses", {}).items()):
        content = response.get("content", {})
        kinds = ", ".join(
            f"{_type(media.get('schema', {}))} as `{name}`" for name, media in content.items()
        )
        headers = ", ".join(f"`{h}`" for h in response.get("headers", {}))
        meaning = _cell(response.get("description", ""))
        if headers:
            meaning += f" (headers: {headers})"
        lines.append(f"| {status} | {meaning} | {kinds or 'none'} |")
    lines.append("")
    return lines


def _slug(path: str) -> str:
    return "-".join(part.strip("{}") for part in path.split("/") if part)


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name} {{ #{_anchor(name)} }}", ""]
    if description := schema.get("description"):
        lines += [" ".join(description.split()), ""]
    properties = schema.get("properties")
    if not properties:
        return [*lines, f"Type: {_type(schema)}", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | limits |", "|---|---|---|---|"]
    for field, each in properties.items():
        lines.append(
            f"| `{field}` | {_type(each)} | {'yes' if field in required else 'no'} "
            f"| {_cell(_limits(each))} |"
        )
    return [*lines, ""]


def render(document: dict[str, Any]) -> str:
    groups: dict[str, list[str]] = defaultdict(list)
    count = 0
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                groups[_group(path)] += _operation(method, path, item[method])
                count += 1
    lines = [f"{count} operations, grouped by the first part of their path.", ""]
    for group, body in groups.items():
        lines += [f"## {group} {{ #group-{group} }}", "", *body]
    lines += ["## Body types { #body-types }", ""]
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        lines += _schema(name, schema)
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} lost its marker {MARKER}: the operations have nowhere to go")
    try:
        document = openapi_document()
    except Exception as error:  # the app could not be built: the reference would be a lie
        raise PluginError(f"could not build the OpenAPI document: {error!r}") from error
    return markdown.replace(MARKER, render(document))
