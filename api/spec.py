"""OpenAPI 3 document built from the blueprint's routes and their `api_doc` annotations."""
from __future__ import annotations

import re

from flask import Flask

PREFIX = "/api/v1"


def api_doc(summary: str, params: list[dict] | None = None, body: dict | None = None, public: bool = False):
    """Annotate a route: summary, query parameters [{name, schema, description}], JSON body schema."""
    def wrap(func):
        func.api_doc = {"summary": summary, "params": params or [], "body": body, "public": public}
        return func
    return wrap


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def repl(match):
        conv, name = match.group(1), match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if conv == "int" else "string"}})
        return "{" + name + "}"
    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, rule), params


def openapi_document(app: Flask) -> dict:
    paths: dict = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", {"summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                                        "params": [], "body": None,
                                        "public": rule.endpoint in ("api.health", "api.openapi")})
        path, path_params = _path(rule.rule[len(PREFIX):] or "/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {
                "summary": doc["summary"],
                "operationId": f"{method.lower()}_{rule.endpoint.replace('.', '_')}",
                "parameters": path_params + [
                    {"name": p["name"], "in": "query", "required": False,
                     "schema": p.get("schema", {"type": "string"}), "description": p.get("description", "")}
                    for p in doc["params"]],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "Bad request"},
                    "401": {"description": "Missing or invalid token"},
                    "404": {"description": "Not found"},
                },
            }
            if doc.get("public"):
                op["security"] = []
            if doc.get("body") and method == "POST":
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
