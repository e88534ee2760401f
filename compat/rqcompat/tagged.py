"""Tagged JSON: the JSON spelling of Python values shared with the Swift `TaggedJSON` type.

null/bool/str/int map to themselves (ints beyond 64 bits as {"$int": "..."}); floats are always
{"$float": repr}; bytes/bytearray as base64; tuples, sets, frozensets and non-str-keyed dicts as
one-key objects ("$tuple", "$set", "$frozenset", "$dict"); lists as arrays; str-keyed dicts as
objects.
"""
import base64
import json
import math

INT64 = (-(2**63), 2**63 - 1)


def to_tagged(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if INT64[0] <= value <= INT64[1]:
            return value
        return {"$int": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return {"$float": repr(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, bytearray):
        return {"$bytearray": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list):
        return [to_tagged(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [to_tagged(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [to_tagged(v) for v in value]}
    if isinstance(value, set):
        return {"$set": [to_tagged(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not (len(value) == 1 and next(iter(value)).startswith("$")):
            return {k: to_tagged(v) for k, v in value.items()}
        return {"$dict": [[to_tagged(k), to_tagged(v)] for k, v in value.items()]}
    raise TypeError(f"no tagged form for {type(value).__name__}")


def from_tagged(value):
    if isinstance(value, list):
        return [from_tagged(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, payload), = value.items()
            if tag == "$float":
                return float(payload)
            if tag == "$int":
                return int(payload)
            if tag == "$bytes":
                return base64.b64decode(payload)
            if tag == "$bytearray":
                return bytearray(base64.b64decode(payload))
            if tag == "$tuple":
                return tuple(from_tagged(v) for v in payload)
            if tag == "$list":
                return [from_tagged(v) for v in payload]
            if tag == "$set":
                return {from_tagged(v) for v in payload}
            if tag == "$frozenset":
                return frozenset(from_tagged(v) for v in payload)
            if tag == "$dict":
                return {from_tagged(k): from_tagged(v) for k, v in payload}
        return {k: from_tagged(v) for k, v in value.items()}
    return value


def dumps(value):
    return json.dumps(to_tagged(value))


def same(a, b):
    """Equality that treats nan as equal to nan and -0.0 as distinct from 0.0, recursively."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b
