import { RuleError, RuleUnsupported } from "../../src/ir/errors.ts";
import { describe, expect, test } from "bun:test";
import type { Node } from "../../src/ir/types.ts";
import { evalCondition, parseCondition } from "../../src/rules/sigma/condition.ts";
import { cond, failure } from "../helpers/sigma-compile.ts";

// Search identifiers stand for themselves: a predicate whose value is the name.
const leaf = (name: string): Node => ({
  kind: "equals",
  field: { name: "f", type: "keyword" },
  value: name,
  cased: false,
});
const names = ["selection", "sel_a", "sel_b", "filter_1", "filter_2", "keywords", "_helper"];
const ev = (c: string, ns = names) => evalCondition(parseCondition(c), ns, leaf);
const A = (...c: Node[]): Node => ({ kind: "and", children: c });
const O = (...c: Node[]): Node => ({ kind: "or", children: c });
const N = (c: Node): Node => ({ kind: "not", child: c });
const [sel, a, b, f1, f2, kw, h] = names.map(leaf) as [Node, Node, Node, Node, Node, Node, Node];

describe("condition precedence: not > and > or", () => {
  test("and binds tighter than or", () => {
    expect(ev("selection or sel_a and sel_b")).toEqual(O(sel, A(a, b)));
    expect(ev("selection and sel_a or sel_b")).toEqual(O(A(sel, a), b));
  });
  test("not binds tighter than and", () => {
    expect(ev("selection and not filter_1 or keywords")).toEqual(O(A(sel, N(f1)), kw));
    expect(ev("not selection and sel_a")).toEqual(A(N(sel), a));
    expect(ev("not not selection")).toEqual(sel);
  });
  test("parentheses group", () => {
    expect(ev("selection and (sel_a or sel_b)")).toEqual(A(sel, O(a, b)));
    expect(ev("not (selection or keywords)")).toEqual(N(O(sel, kw)));
    expect(ev("((selection))")).toEqual(sel);
  });
  test("keywords are case-insensitive", () => {
    expect(ev("selection AND NOT filter_1 OR keywords")).toEqual(O(A(sel, N(f1)), kw));
    expect(ev("1 OF sel_* AND ALL OF filter_*")).toEqual(A(O(a, b), f1, f2)); // nested ANDs flatten
  });
});

describe("x of", () => {
  test("1 of pattern is OR, all of pattern is AND", () => {
    expect(ev("1 of sel_*")).toEqual(O(a, b));
    expect(ev("all of filter_*")).toEqual(A(f1, f2));
    expect(ev("1 of sel*")).toEqual(O(sel, a, b));
  });
  test("x of binds tighter than not/and/or", () => {
    expect(ev("selection and not 1 of filter_*")).toEqual(A(sel, N(O(f1, f2))));
  });
  test("them covers every identifier not starting with _", () => {
    expect(ev("1 of them")).toEqual(O(sel, a, b, f1, f2, kw));
    expect(ev("all of them")).toEqual(A(sel, a, b, f1, f2, kw));
    expect(ev("1 of _*")).toEqual(h);
  });
  test("_ identifiers only match patterns that start with _", () => {
    expect(ev("1 of *")).toEqual(O(sel, a, b, f1, f2, kw));
    expect(ev("1 of *helper", [...names, "x_helper"])).toEqual(leaf("x_helper"));
    expect(ev("all of _help*")).toEqual(h);
    expect(ev("1 of _helper")).toEqual(h);
    expect(() => ev("1 of *helper", ["_helper"])).toThrow("matches no search identifier");
  });
  test("any of is 1 of", () => {
    expect(ev("any of sel_*")).toEqual(O(a, b));
  });
  test("a pattern with * anywhere; a pattern without * is the identifier itself", () => {
    expect(ev("1 of *_2")).toEqual(f2);
    expect(ev("all of keywords")).toEqual(kw);
  });
  test("N of: at least N", () => {
    expect(ev("2 of sel*")).toEqual(O(A(sel, a), A(sel, b), A(a, b)));
    expect(ev("2 of sel_*")).toEqual(A(a, b));
    expect(ev("3 of sel_*")).toEqual({ kind: "const", value: false });
  });
  test("a pattern matching nothing is an error", () => {
    expect(() => ev("1 of nothing*")).toThrow(RuleError);
    expect(() => ev("1 of nothing*")).toThrow("'1 of nothing*' matches no search identifier");
  });
});

describe("condition errors and unsupported forms", () => {
  test("unknown identifiers, dangling operators, unbalanced parentheses", () => {
    expect(() => ev("selection and nope")).toThrow("unknown search identifier 'nope'");
    expect(() => ev("selection and")).toThrow("expected a search identifier, found end of condition");
    expect(() => ev("(selection")).toThrow("expected ')'");
    expect(() => ev("selection)")).toThrow("expected 'and', 'or' or the end, found ')' at column 10");
    expect(() => ev("selection sel_a")).toThrow("found 'sel_a' at column 11");
    expect(() => ev("1 selection")).toThrow("expected 'of' after '1'");
    expect(() => ev("")).toThrow("empty condition");
  });
  test("aggregations and near are unsupported with the reason", () => {
    expect(() => parseCondition("selection | count() by host > 5")).toThrow(RuleUnsupported);
    expect(() => parseCondition("selection | count() by host > 5")).toThrow(
      "aggregation '| count() by host > 5' is not supported",
    );
    expect(() => parseCondition("selection | near other")).toThrow("aggregation '| near other'");
    expect(() => parseCondition("count(x) by y > 3 and not z")).toThrow(RuleUnsupported);
  });
});

describe("conditions in rules", () => {
  test("a list of conditions is their OR", () => {
    expect(
      cond(`    a:\n        Image: x\n    b:\n        Image: y\n    condition:\n        - a\n        - b`),
    ).toEqual({
      kind: "or",
      children: [
        { kind: "equals", field: { name: "winlog.event_data.Image", type: "keyword" }, value: "x", cased: false },
        { kind: "equals", field: { name: "winlog.event_data.Image", type: "keyword" }, value: "y", cased: false },
      ],
    });
  });
  test("a timeframe alone is fine (warned)", () => {
    expect(cond(`    a:\n        Image: x\n    timeframe: 5m\n    condition: a`).kind).toBe("equals");
  });
  test("an aggregation makes the rule unsupported with the place", () => {
    const f = failure(`    a:\n        Image: x\n    timeframe: 5m\n    condition: a | count() by Computer > 3`);
    expect(f).toEqual({
      status: "unsupported",
      error:
        "rules/test_rule.yml:10: detection.condition: aggregation '| count() by Computer > 3' is not supported (it needs several events)",
    });
  });
  test("an unknown identifier is an error quoting the condition", () => {
    expect(failure(`    a:\n        Image: x\n    condition: a and b`).error).toBe(
      "rules/test_rule.yml:9: detection.condition: unknown search identifier 'b' in 'a and b'",
    );
  });
});
