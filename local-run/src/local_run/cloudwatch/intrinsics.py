"""CloudFormation intrinsics in a synthesized template, rendered as tokens.

``{"Ref": "X"}`` -> ``{Ref:X}`` (or the value ``parameters`` gives X, e.g. a pseudo parameter
such as ``AWS::StackName``), ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``{GetAtt:X.Arn}``,
``Fn::Join`` joined. A token stands for a resource's name or attribute until it is mapped to
what that resource is called where the alarms are evaluated (`local_run.simulation.stack_alarms`).

Anything else raises `TemplateAlarmError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


# Here, with the first code to raise it: rendering, the AlarmRule parser and the alarm reader
# all raise this one error, so that a caller catches every template problem with one except.
class TemplateAlarmError(ValueError):
    """An alarm shape this package does not support, or a broken reference."""


def render(value: Any, parameters: Mapping[str, str] | None = None) -> str:
    """A string property with intrinsics as tokens (Refs to ``parameters`` resolved)."""
    params = parameters or {}
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TemplateAlarmError(f"expected a string, got {value!r}")
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, Mapping) and len(value) == 1:
        if "Ref" in value:
            ref = value["Ref"]
            return params.get(ref, "{Ref:" + ref + "}")
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            return "{GetAtt:" + ".".join(target) + "}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(render(part, params) for part in parts)
    raise TemplateAlarmError(f"cannot render {value!r}")


_TOKEN_RE = re.compile(r"\{(?:Ref|GetAtt):[^{}]+\}")


def is_token(text: str) -> bool:
    """Whether ``text`` holds a token (``{Ref:X}``, ``{GetAtt:X.Y}``)."""
    return bool(_TOKEN_RE.search(text))
