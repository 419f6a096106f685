"""A lossless JSON serialization for backups.

Django's JSON encoder cuts datetimes to milliseconds; a backup must give back exactly what
was stored, so this format keeps microseconds. Files stay plain Django JSON fixtures and load
with the standard `json` deserializer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.serializers.json import Deserializer as Deserializer
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer


class LosslessEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (dt.datetime, dt.time)):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self) -> None:
        super()._init_options()  # type: ignore[misc]
        self.json_kwargs["cls"] = LosslessEncoder
