"""Compares pysigma_dump.py and outliers_dump.ts output; prints a summary and the first differences.
Normalises only what carries no meaning: single-child and/or, nested same-kind and/or, singleton
expansions, int vs float, a value list of one (its and/or linking)."""
import json
import sys


def norm_tree(n):
    if isinstance(n, dict) and "not" in n:
        c = norm_tree(n["not"])
        return c["not"] if isinstance(c, dict) and "not" in c else {"not": c}
    if isinstance(n, dict) and "field" not in n:
        for k in ("and", "or"):
            if k in n:
                kids = []
                for c in map(norm_tree, n[k]):
                    kids.extend(c[k] if isinstance(c, dict) and k in c and "field" not in c else [c])
                return kids[0] if len(kids) == 1 else {k: kids}
    if isinstance(n, dict) and "values" in n:
        n = dict(n, values=[norm_value(v) for v in n["values"]])
        if len(n["values"]) == 1:
            n["link"] = "or"
    return n


def norm_value(v):
    if "exp" in v:
        xs = [norm_value(x) for x in v["exp"]]
        return xs[0] if len(xs) == 1 else {"exp": xs}
    if "num" in v:
        return dict(v, num=float(v["num"]))
    return v


def load(path):
    return {j["path"]: j for j in map(json.loads, open(path, encoding="utf-8"))}


py, ours = load(sys.argv[1]), load(sys.argv[2])
same_det = same_cond = 0
problems = []
for p, a in sorted(py.items()):
    b = ours.get(p, {"error": "missing"})
    if "error" in a or "error" in b:
        problems.append(f"{p}: pySigma: {a.get('error', 'ok')}; outliers: {b.get('error', 'ok')}")
        continue
    da = json.dumps({k: norm_tree(v) for k, v in a["det"].items()}, sort_keys=True, ensure_ascii=False)
    db = json.dumps({k: norm_tree(v) for k, v in b["det"].items()}, sort_keys=True, ensure_ascii=False)
    ca = json.dumps(norm_tree({"or": a["conds"]}), sort_keys=True)
    cb = json.dumps(norm_tree({"or": b["conds"]}), sort_keys=True)
    same_det += da == db
    same_cond += ca == cb
    if da != db:
        problems.append(f"{p}: detection differs\n  pySigma:  {da[:400]}\n  outliers: {db[:400]}")
    if ca != cb:
        problems.append(f"{p}: condition differs\n  pySigma:  {ca[:400]}\n  outliers: {cb[:400]}")
print(f"{len(py)} rules: detection values identical for {same_det}, conditions identical for {same_cond}, {len(problems)} differences")
for line in problems[:20]:
    print(line)
sys.exit(1 if problems else 0)
