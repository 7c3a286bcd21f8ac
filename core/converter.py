"""The Temporal data converter: pydantic JSON, with one TypeAdapter per model instead of one per payload.

`temporalio.contrib.pydantic` builds a new `TypeAdapter` for every payload it decodes. For the large
contracts of every Update (the input, the returned RecordSnapshot, the local activity's input and
result) that was about 8 % of the worker's CPU and a share of the API's. The adapters of pydantic
models are kept here; any other type hint is decoded exactly as the contrib converter does it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import temporalio.api.common.v1
from pydantic import BaseModel, TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)


@lru_cache(maxsize=256)
def _model_adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


class ModelJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None) -> Any:
        if isinstance(type_hint, type) and issubclass(type_hint, BaseModel):
            return _model_adapter(type_hint).validate_json(payload.data)
        return super().from_payload(payload, type_hint)


class ModelPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        json_converter = ModelJSONPayloadConverter()
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=ModelPayloadConverter)
"""The converter of every itilflow client and worker (payloads are the same JSON as the contrib one's)."""
