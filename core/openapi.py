"""The OpenAPI 3.1 document, built from the routes every domain declares on its `core.http.Api`.

Schemas come from the pydantic models the routes parse and answer with; every model lands in `components` once,
and an operation lists the error statuses its declaration implies (input → 400/422, auth → 401/403, a path id → 404)
beside the ones it names.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from core.http import PATH_PARAM, Api, RouteSpec

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
_ERROR_RESPONSE = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_REF = "#/components/schemas/{model}"


def openapi_document(api: Api, *, title: str, version: str) -> dict[str, Any]:
    builder = _Builder()
    paths: dict[str, Any] = {}
    for spec in api.routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = builder.operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": builder.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


class _Builder:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": ERROR_SCHEMA}

    # ---------------------------------------------------------------- one operation

    def operation(self, spec: RouteSpec) -> dict[str, Any]:
        op: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": spec.operation_id or f"{spec.handler.__module__.split('.')[0]}_{spec.handler.__name__}",
            "tags": spec.tags,
            "parameters": self._parameters(spec),
            "responses": self._responses(spec),
        }
        if spec.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self._schema_of(spec.body, "validation")}},
            }
        elif spec.request_content is not None:
            op["requestBody"] = {"required": True, "content": spec.request_content}
        if spec.auth:
            op["security"] = [{"bearer": []}]
        return op

    def _parameters(self, spec: RouteSpec) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
            for name in PATH_PARAM.findall(spec.path)
        ]
        if spec.query is None:
            return parameters
        query_schema = self._add_components(spec.query.model_json_schema(ref_template=_REF))
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if prop.get("type") == "array":
                param.update(style="form", explode=True)
            parameters.append(param)
        return parameters

    def _responses(self, spec: RouteSpec) -> dict[str, Any]:
        ok: dict[str, Any] = {"description": "OK"}
        if spec.response is not None:
            ok["content"] = {"application/json": {"schema": self._schema_of(spec.response, "serialization")}}
        responses: dict[str, Any] = {str(spec.status if spec.response is not None or spec.status != 200 else 204): ok}
        responses.update(spec.extra_responses)
        error_statuses = set(spec.errors)
        if spec.body is not None or spec.query is not None or spec.request_content is not None:
            error_statuses |= {400, 422}
        if spec.auth:
            error_statuses |= {401, 403}
        if PATH_PARAM.search(spec.path):
            error_statuses.add(404)
        for status in sorted(error_statuses):
            extra = spec.extra_responses.get(str(status))
            if extra is not None and "content" in extra:
                # A route that also answers this status otherwise (an HTML page for a browser): both are documented.
                content = {**_ERROR_RESPONSE["content"], **extra["content"]}  # type: ignore[dict-item]
                responses[str(status)] = {"description": extra.get("description", "Error"), "content": content}
            else:
                responses[str(status)] = _ERROR_RESPONSE
        return responses

    # ---------------------------------------------------------------- schemas into components

    def _schema_of(self, model: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(model).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        if isinstance(model, type) and issubclass(model, BaseModel) and "properties" in schema:
            return self._add_components(schema, model.__name__)
        return self._add_components(schema)

    def _add_components(self, schema: dict[str, Any], own_name: str | None = None) -> dict[str, Any]:
        """Move the schema's $defs (and itself, under `own_name`) into components. Two domains may each have a
        model of the same name (agencies' and vouchers' `ServiceOut`): the later one gets a numbered name and
        the references in this schema are rewritten to it, so no operation points at the other's model."""
        bundle: dict[str, Any] = schema.pop("$defs", {})
        bundle["$root" if own_name is None else own_name] = schema
        renames = self._free_names(bundle)
        current = _renamed(bundle, renames)
        root = current.pop("$root", None)
        for name, sub in current.items():
            self.components.setdefault(renames.get(name, name), sub)
        if own_name is not None:
            return {"$ref": f"#/components/schemas/{renames.get(own_name, own_name)}"}
        assert root is not None
        return dict(root)

    def _free_names(self, bundle: dict[str, Any]) -> dict[str, str]:
        """Each name takes the first of Name, Name2, Name3… that is free or holds the same schema, judged with the
        references already renamed; repeated until nothing changes (a rename changes the schemas that refer to it)."""
        renames: dict[str, str] = {}
        for _ in range(10):
            chosen: dict[str, str] = {}
            for name, sub in _renamed(bundle, renames).items():
                if name == "$root":
                    continue
                candidate, n = name, 1
                while candidate in self.components and self.components[candidate] != sub:
                    n += 1
                    candidate = f"{name}{n}"
                if candidate != name:
                    chosen[name] = candidate
            if chosen == renames:
                break
            renames = chosen
        return renames


def _renamed(bundle: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(bundle)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    result: dict[str, Any] = json.loads(text)
    return result
