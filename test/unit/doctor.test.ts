import { describe, expect, test } from "bun:test";
import {
  compilationsIn,
  formatReport,
  healthCheck,
  ingestCheck,
  privilegesCheck,
  regexCheck,
  scriptLimitsCheck,
  securityUnavailable,
  setting,
} from "../../src/cluster/connection/doctor.ts";

describe("doctor checks", () => {
  test("health: green and yellow are fine, red says what to do", () => {
    expect(healthCheck({ status: "green", number_of_nodes: 3 })).toEqual({
      name: "health",
      status: "ok",
      detail: "green, 3 node(s)",
    });
    expect(healthCheck({ status: "yellow", number_of_nodes: 1, unassigned_shards: 2 }).status).toBe("ok");
    const red = healthCheck({ status: "red", number_of_nodes: 1 });
    expect(red.status).toBe("fail");
    expect(red.fix).toContain("_cluster/allocation/explain");
  });

  test("ingest nodes are counted by role", () => {
    const ok = ingestCheck({ a: { roles: ["master", "data", "ingest"] }, b: { roles: ["data"] } });
    expect(ok).toEqual({ name: "ingest nodes", status: "ok", detail: "1 of 2 node(s) have the ingest role" });
    const none = ingestCheck({ a: { roles: ["master", "data"] } });
    expect(none.status).toBe("fail");
    expect(none.fix).toContain('"ingest" to node.roles');
  });

  test("settings: transient beats persistent beats defaults", () => {
    const flat = { transient: { a: "1" }, persistent: { a: "2", b: "2" }, defaults: { a: "3", b: "3", c: "3" } };
    expect([setting(flat, "a"), setting(flat, "b"), setting(flat, "c"), setting(flat, "d")]).toEqual([
      "1",
      "2",
      "3",
      undefined,
    ]);
  });

  test("regex setting is reported, never a failure", () => {
    expect(regexCheck("false").status).toBe("ok");
    expect(regexCheck(undefined).detail).toContain("limited (default)");
  });

  test("compilation rates", () => {
    expect(compilationsIn("75/5m")).toBe(75);
    expect(compilationsIn("unlimited")).toBe(Infinity);
    expect(compilationsIn("use-context")).toBeUndefined();
  });

  test("script limits: 7.x per-context defaults are fine", () => {
    const c = scriptLimitsCheck({
      defaults: { "script.max_compilations_rate": "use-context", "script.max_size_in_bytes": "65535" },
    });
    expect(c.status).toBe("ok");
    expect(c.detail).toContain("script.context.ingest.max_compilations_rate: 75/5m");
  });

  test("script limits: too low a rate, too small a size, inline scripts off", () => {
    const c = scriptLimitsCheck({
      persistent: {
        "script.max_compilations_rate": "5/5m",
        "script.max_size_in_bytes": "1000",
        "script.allowed_types": ["stored"],
      },
    });
    expect(c.status).toBe("fail");
    expect(c.fix).toBe(
      'raise script.max_compilations_rate to at least 10/5m; raise script.max_size_in_bytes to at least 65535; add "inline" to script.allowed_types (the tagging scripts are inline)',
    );
  });

  test("security off is recognised in its several shapes", () => {
    expect(securityUnavailable(400, { error: { type: "invalid_index_name_exception" } })).toBe(true);
    expect(securityUnavailable(404, {})).toBe(true);
    expect(
      securityUnavailable(500, {
        error: { reason: "Security must be explicitly enabled when using a [basic] license" },
      }),
    ).toBe(true);
    expect(securityUnavailable(500, { error: { reason: "something else" } })).toBe(false);
  });

  test("missing privileges are named", () => {
    const c = privilegesCheck({
      has_all_requested: false,
      username: "bob",
      cluster: { monitor: true, manage_pipeline: false, manage_index_templates: true },
      index: { "*": { write: false, manage: true, read: true, view_index_metadata: true } },
    });
    expect(c.status).toBe("fail");
    expect(c.detail).toBe('user "bob" lacks cluster: manage_pipeline; indices *: write');
    expect(privilegesCheck({ has_all_requested: true, username: "alice" }).status).toBe("ok");
  });

  test("report text: one line per check and a verdict", () => {
    const text = formatReport({
      url: "http://x:9200",
      ready: false,
      version: "7.10.2",
      distribution: "elasticsearch",
      checks: [
        { name: "health", status: "ok", detail: "green" },
        { name: "ingest nodes", status: "fail", detail: "none", fix: "add it" },
      ],
    });
    expect(text.split("\n")).toEqual([
      "ok    health        green",
      "FAIL  ingest nodes  none -> add it",
      "not ready: http://x:9200 needs the fixes marked FAIL above",
    ]);
  });
});
