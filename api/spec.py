"""OpenAPI 3 document built from the blueprint's routes and their `api_doc` annotations."""
from __future__ import annotations

import re

from flask import Flask

PREFIX = "/api/v1"


def api_doc(summary: str, params: list[dict] | None = None, body: dict | None = None, public: bool = False,
            path: dict[str, dict] | None = None):
    """Annotate a route: summary, query parameters [{name, schema, description, required}], JSON body schema,
    path parameter schemas {name: schema} (int converters document their own bounds)."""
    def wrap(func):
        func.api_doc = {"summary": summary, "params": params or [], "body": body, "public": public,
                        "path": path or {}}
        return func
    return wrap


def _path(rule: str, schemas: dict[str, dict]) -> tuple[str, list[dict]]:
    params = []

    def repl(match):
        conv, args, name = match.group(1), match.group(2) or "", match.group(3)
        schema = {"type": "integer" if conv == "int" else "string"}
        for key, value in re.findall(r"(min|max)=(-?\d+)", args):
            schema["minimum" if key == "min" else "maximum"] = int(value)
        params.append({"name": name, "in": "path", "required": True, "schema": schemas.get(name, schema)})
        return "{" + name + "}"
    return re.sub(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", repl, rule), params


def openapi_document(app: Flask) -> dict:
    paths: dict = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", {"summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                                        "params": [], "body": None,
                                        "public": rule.endpoint in ("api.health", "api.openapi")})
        path, path_params = _path(rule.rule[len(PREFIX):] or "/", doc.get("path", {}))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {
                "summary": doc["summary"],
                "operationId": f"{method.lower()}_{rule.endpoint.replace('.', '_')}",
                "parameters": path_params + [
                    {"name": p["name"], "in": "query", "required": bool(p.get("required")),
                     "schema": p.get("schema", {"type": "string"}), "description": p.get("description", "")}
                    for p in doc["params"]],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "Bad request (the message says which parameter and what is allowed)"},
                    "401": {"description": "Missing or invalid token"},
                    "403": {"description": "The user's role may not do this, or a cookie write without CSRF token"},
                    "404": {"description": "Not found"},
                },
            }
            if doc.get("public"):
                op["security"] = []
            if method == "POST":
                op["responses"].update({"409": {"description": "The state does not allow it"},
                                        "415": {"description": "The body is not JSON"}})
                if doc.get("body"):
                    op["requestBody"] = {"required": False, "content": {"application/json": {"schema": doc["body"]}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Marketplace operations dashboard API", "version": "1.0.0"},
        "servers": [{"url": PREFIX}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
