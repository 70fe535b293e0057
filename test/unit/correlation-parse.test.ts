import { describe, expect, test } from "bun:test";
import type { CompileResult } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileSigmaText } from "../../src/rules/sigma/index.ts";
import { resolveCorrelations } from "../../src/rules/sigma/correlation.ts";

const profile = loadProfile("winlogbeat");
const BASE = `title: Failed logon
id: base-1
name: failed_logon
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
---
title: Logon
id: base-2
name: logon
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4624}
    condition: selection
`;

function load(files: Record<string, string>): CompileResult[] {
  const opts = { profile };
  return resolveCorrelations(
    Object.entries(files).flatMap(([p, t]) => compileSigmaText(p, t, opts)),
    opts,
  );
}

function corr(body: string, id = "c-1"): string {
  return `title: Corr ${id}\nid: ${id}\nlevel: high\ntags: [attack.t1110]\ncorrelation:\n${body}`;
}

function byId(rs: CompileResult[], id: string): CompileResult {
  return rs.find((r) => (r.status === "ok" ? r.rule.id : r.id) === id)!;
}

describe("correlation documents", () => {
  test("every type compiles, references by name or id across files, fields through the profile", () => {
    const types = [
      ["event_count", "condition: {gte: 3}"],
      ["value_count", "condition: {field: IpAddress, gt: 1, lte: 5}"],
      ["temporal", ""],
      ["temporal_ordered", ""],
      ["value_sum", "condition: {field: LogonType, gte: 10}"],
      ["value_avg", "condition: {field: LogonType, lt: 3}"],
      ["value_median", "condition: {field: LogonType, eq: 3}"],
      ["value_percentile", "condition: {field: LogonType, percentile: 95, neq: 2}"],
    ];
    const files: Record<string, string> = { "a/base.yml": BASE };
    types.forEach(([t, cond], i) => {
      files[`b/c${i}.yml`] = corr(
        `    type: ${t}\n    rules: [failed_logon, base-2]\n    group-by: [TargetUserName]\n    timespan: 5m\n    ${cond}\n`,
        `c-${i}`,
      );
    });
    const rs = load(files);
    types.forEach(([t], i) => {
      const r = byId(rs, `c-${i}`);
      if (r.status !== "ok") throw new Error(r.error);
      const c = r.rule.correlation!;
      expect(c.type).toBe(t as any);
      expect(c.ruleIds).toEqual(["base-1", "base-2"]);
      expect(c.fields["base-1"]!.groupBy.map((f) => f.name)).toEqual(["winlog.event_data.TargetUserName"]);
      expect(c.timespanMs).toBe(300_000);
      expect(r.rule.index.length).toBeGreaterThan(0);
    });
    const vc = byId(rs, "c-1");
    expect(vc.status === "ok" && vc.rule.correlation!.condition).toEqual([
      { op: "gt", value: 1 },
      { op: "lte", value: 5 },
    ]);
  });

  test("aliases give each referenced rule its own field", () => {
    const rs = load({
      "base.yml": BASE,
      "c.yml": corr(
        "    type: temporal\n    rules: [failed_logon, logon]\n    group-by: [user]\n    timespan: 1h\n    aliases:\n        user:\n            failed_logon: TargetUserName\n            logon: SubjectUserName\n",
      ),
    });
    const r = byId(rs, "c-1");
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.rule.correlation!.fields["base-1"]!.groupBy[0]!.name).toBe("winlog.event_data.TargetUserName");
    expect(r.rule.correlation!.fields["base-2"]!.groupBy[0]!.name).toBe("winlog.event_data.SubjectUserName");
  });

  test("a chain resolves through the inner correlation's base rules", () => {
    const rs = load({
      "base.yml": BASE,
      "c.yml":
        corr(
          "    type: event_count\n    rules: [failed_logon]\n    group-by: [TargetUserName]\n    timespan: 5m\n    condition: {gte: 3}\n",
          "inner",
        ) +
        "name: many_failed\n---\n" +
        corr(
          "    type: temporal_ordered\n    rules: [many_failed, logon]\n    group-by: [TargetUserName]\n    timespan: 10m\n",
          "outer",
        ),
    });
    const r = byId(rs, "outer");
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.rule.correlation!.ruleIds).toEqual(["inner", "base-2"]);
    expect(r.rule.correlation!.fields.inner!.groupBy[0]!.name).toBe("winlog.event_data.TargetUserName");
  });

  test("refusals are per rule, with the reason, and the other rules still compile", () => {
    const rs = load({
      "base.yml": BASE,
      "bad.yml": [
        corr(
          "    type: event_count\n    rules: [nope]\n    group-by: [User]\n    timespan: 5m\n    condition: {gte: 3}\n",
          "missing",
        ),
        corr(
          "    type: value_percentile\n    rules: [logon]\n    timespan: 5m\n    condition: {field: LogonType, gte: 3}\n",
          "noperc",
        ),
        corr("    type: event_count\n    rules: [logon]\n    timespan: 1M\n    condition: {gte: 3}\n", "month"),
        corr(
          "    type: temporal\n    rules: [logon]\n    timespan: 5m\n    condition: 'logon and failed_logon'\n",
          "ext",
        ),
        corr("    type: event_count\n    rules: [c2]\n    timespan: 5m\n    condition: {gte: 1}\n", "c1"),
        corr("    type: event_count\n    rules: [c1]\n    timespan: 5m\n    condition: {gte: 1}\n", "c2"),
        corr("    type: fancy\n    rules: [logon]\n    timespan: 5m\n", "fancy"),
        corr("    type: event_count\n    rules: [logon]\n    timespan: 5m\n    condition: {gte: 2}\n", "good"),
      ].join("---\n"),
    });
    const err = (id: string) => {
      const r = byId(rs, id);
      return r.status === "ok" ? "ok" : `${r.status}: ${r.error}`;
    };
    expect(err("missing")).toContain("referenced rule 'nope' not found");
    expect(err("noperc")).toContain("value_percentile needs condition.percentile");
    expect(err("month")).toStartWith("unsupported:");
    expect(err("ext")).toContain("extended (boolean) correlation conditions are not supported");
    expect(err("c1")).toContain("a cycle of correlations");
    expect(err("c2")).toContain("cycle");
    expect(err("fancy")).toContain("unknown correlation type 'fancy'");
    expect(err("good")).toBe("ok");
    expect(err("base-1")).toBe("ok");
  });
});
