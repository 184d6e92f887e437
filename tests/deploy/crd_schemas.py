"""The Prometheus Operator's CRDs, reduced to the fields deploy/k8s/monitoring uses.

kubernetes-validate knows no custom resources; these JSON schemas take the types, patterns and
required fields from monitoring.coreos.com_prometheusrules.yaml and _servicemonitors.yaml of
prometheus-operator v0.8x. Unknown fields are refused, as `kubectl apply`'s strict field
validation refuses them: using another field means adding it here from the CRD.
"""

from __future__ import annotations

from typing import Any

CRD_GROUP = "monitoring.coreos.com/v1"

DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?"
    r"(([0-9]+)ms)?)$",
}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
RULE = {
    "type": "object",
    "required": ["expr"],
    "oneOf": [{"required": ["record"]}, {"required": ["alert"]}],
    "additionalProperties": False,
    "properties": {
        "record": {"type": "string"},
        "alert": {"type": "string"},
        "expr": {"type": ["integer", "string"]},
        "for": DURATION,
        "keep_firing_for": DURATION,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}
RULE_GROUP = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "interval": DURATION,
        "query_offset": DURATION,
        "limit": {"type": "integer"},
        "labels": STRING_MAP,
        "rules": {"type": "array", "items": RULE},
    },
}
LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"matchLabels": STRING_MAP, "matchExpressions": {"type": "array"}},
}
ENDPOINT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "port": {"type": "string"},
        "path": {"type": "string"},
        "scheme": {"type": "string"},
        "interval": DURATION,
        "scrapeTimeout": DURATION,
    },
}


def crd_schema(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": CRD_GROUP},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string", "minLength": 1}, "labels": STRING_MAP},
            },
            "spec": spec,
        },
    }


CRD_SCHEMAS = {
    "PrometheusRule": crd_schema(
        "PrometheusRule",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"groups": {"type": "array", "items": RULE_GROUP}},
        },
    ),
    "ServiceMonitor": crd_schema(
        "ServiceMonitor",
        {
            "type": "object",
            "required": ["endpoints", "selector"],
            "additionalProperties": False,
            "properties": {
                "selector": LABEL_SELECTOR,
                "endpoints": {"type": "array", "minItems": 1, "items": ENDPOINT},
                "jobLabel": {"type": "string"},
            },
        },
    ),
}
