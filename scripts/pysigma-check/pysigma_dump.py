"""pySigma's reading of Sigma rules as canonical JSON lines: detection values after modifiers and
the condition trees with `x of` resolved to identifiers (see ../pysigma-check/run)."""
import json
import sys

import sigma.types as t
from sigma.conditions import ConditionAND, ConditionIdentifier, ConditionNOT, ConditionSelector
from sigma.rule import SigmaDetectionItem, SigmaRule


def parts(s):
    out = []
    for p in s.s:
        if isinstance(p, str):
            if out and "lit" in out[-1]:
                out[-1]["lit"] += p
            elif p != "":
                out.append({"lit": p})
        elif isinstance(p, t.Placeholder):
            out.append({"ph": p.name})
        elif p == t.SpecialChars.WILDCARD_MULTI:
            out.append({"any": 1})
        elif p == t.SpecialChars.WILDCARD_SINGLE:
            out.append({"one": 1})
    return out


def value(v):
    if isinstance(v, t.SigmaExpansion):
        return {"exp": [value(x) for x in v.values]}
    if isinstance(v, t.SigmaCasedString):
        return {"s": parts(v), "cased": True}
    if isinstance(v, t.SigmaString):
        return {"s": parts(v)}
    if isinstance(v, t.SigmaRegularExpression):
        return {"re": str(v.regexp), "flags": "".join(sorted({f.name[0].lower() for f in v.flags}))}
    if isinstance(v, t.SigmaCIDRExpression):
        return {"cidr": str(v.cidr)}
    if isinstance(v, t.SigmaBool):
        return {"bool": v.boolean}
    if isinstance(v, t.SigmaNumber):
        return {"num": v.number}
    if isinstance(v, t.SigmaNull):
        return {"null": True}
    if isinstance(v, t.SigmaExists):
        return {"exists": v.exists}
    if isinstance(v, t.SigmaCompareExpression):
        return {"cmp": v.op.name.lower(), "num": v.number.number}
    if isinstance(v, t.SigmaFieldReference):
        return {"fieldref": v.field}
    return {"unknown": type(v).__name__}


def detection(d):
    if isinstance(d, SigmaDetectionItem):
        link = "and" if d.value_linking is ConditionAND else "or"
        return {"field": d.field, "link": link, "values": [value(v) for v in d.value]}
    return {("and" if d.item_linking is ConditionAND else "or"): [detection(x) for x in d.detection_items]}


def condition(n, dets):
    if isinstance(n, ConditionIdentifier):
        return {"id": n.args[0]}
    if isinstance(n, ConditionSelector):
        ids = [{"id": i.args[0]} for i in n.resolve_referenced_detections(dets)]
        return {("and" if n.cond_class is ConditionAND else "or"): ids}
    if isinstance(n, ConditionNOT):
        return {"not": condition(n.args[0], dets)}
    return {("and" if isinstance(n, ConditionAND) else "or"): [condition(a, dets) for a in n.args]}


for path in sys.argv[1:]:
    try:
        r = SigmaRule.from_yaml(open(path, encoding="utf-8").read())
        det = {name: detection(d) for name, d in r.detection.detections.items()}
        conds = [condition(c.parse(postprocess=False), r.detection) for c in r.detection.parsed_condition]
        print(json.dumps({"path": path, "det": det, "conds": conds}, ensure_ascii=False))
    except Exception as e:  # noqa: BLE001 - reported per file
        print(json.dumps({"path": path, "error": f"{type(e).__name__}: {e}"}, ensure_ascii=False))
