"""Policy tool kinds, one module each, found by a registry.

Every module in this package that defines ``TOOL_KIND`` (a ``base.ToolKind``) is a tool kind;
``kind = "..."`` in a scenario file names it. Adding a kind is adding a module: reading scenarios,
running, summarising, reporting and the dashboard iterate over ``kinds()`` and never name one.
``register`` adds a kind built elsewhere (a test, a user's own module).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from model.tools.base import (COMMON_FILE_KEYS, ControlSpec, Tool, ToolContext, ToolEffect, ToolKind, read_common,
                              read_settings, settings_schema)

__all__ = ["ControlSpec", "Tool", "ToolContext", "ToolEffect", "ToolKind", "get", "kinds", "read_tool", "register",
           "settings_schema", "tools_schema", "unregister"]

_REGISTRY: dict[str, ToolKind] = {}
_DISCOVERED = False


def _discover() -> None:
    """Import every module of this package once and register the kinds they define."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "TOOL_KIND", None)
        if isinstance(kind, ToolKind):
            register(kind)


def register(kind: ToolKind) -> ToolKind:
    """Add a tool kind to the registry (replacing one of the same name).

    Raises:
        TypeError: a setting of the kind is not declared with ``base.setting`` (it would have no unit,
            range or description for the reader and the schema).
    """
    for f in kind.settings_fields():
        if "unit" not in f.metadata or "description" not in f.metadata:
            raise TypeError(f"tool kind {kind.name}: setting {f.name} is not declared with model.tools.base.setting(...)")
    if kind.derive is None and any(f.metadata["derived_default"] for f in kind.settings_fields()):
        raise TypeError(f"tool kind {kind.name}: a setting has a derived default but the kind gives no derive")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a tool kind (for tests that register their own)."""
    _REGISTRY.pop(name, None)


def kinds() -> dict[str, ToolKind]:
    """Every registered tool kind, by name."""
    _discover()
    return dict(_REGISTRY)


def get(name: str) -> ToolKind:
    """The tool kind called ``name``.

    Raises:
        KeyError: no such kind.
    """
    _discover()
    return _REGISTRY[name]


def read_tool(r, name: str, t: Any, context: ToolContext) -> Tool:
    """Read and validate the table ``[tools.NAME]`` of a scenario with the reader ``r``.

    Raises:
        ScenarioError: through ``r.fail``, naming the field and the reason.
    """
    path = f"tools.{name}"
    if not isinstance(t, dict):
        raise r.fail(path, "expected a table")
    registry = kinds()
    kind_name = r.string(t, "kind", path, choices=tuple(registry))
    kind = registry[kind_name]
    common = read_common(r, name, kind_name, t, context)
    own = [f.name for f in kind.settings_fields()]
    unknown = set(t) - set(COMMON_FILE_KEYS) - set(own) - set(kind.extra_file_keys)
    if unknown:
        raise r.fail(f"{path}.{sorted(unknown)[0]}",
                     f"unknown field for a {kind_name} tool; known: {', '.join(sorted(own))}")
    return read_settings(r, kind, t, path, common, context)


def tools_schema() -> dict[str, Any]:
    """JSON Schema of a scenario's ``[tools]`` table: each ``[tools.NAME]`` is one of the registered kinds."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "policy tools",
            "type": "object",
            "additionalProperties": {"oneOf": [settings_schema(kind) for kind in kinds().values()]}}
