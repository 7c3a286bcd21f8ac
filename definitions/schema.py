"""JSON Schema of the definition language, for editor autocompletion (yaml-language-server)."""

from __future__ import annotations

import json
from typing import Any

from definitions.model import Definition


def json_schema() -> dict[str, Any]:
    schema = Definition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "itilflow process definition"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
