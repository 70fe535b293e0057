import { describe, expect, test } from "bun:test";
import { reachable, searchTargets } from "../../src/cluster/connection/guards.ts";

describe("guards: what patterns reach", () => {
  test("wildcards exclude '.' indices but keep the backing indices of the data streams they name; exact names come after the exclusion", () => {
    expect(searchTargets(["winlogbeat-*", "logs-app", ".tasks"])).toEqual([
      "winlogbeat-*",
      "-.*",
      ".ds-winlogbeat-*",
      "logs-app",
      ".tasks",
    ]);
    expect(searchTargets(["logs-app"])).toEqual(["logs-app"]);
  });
  test("a '.' index is reachable only by its exact name, or as the backing index of a named data stream", () => {
    expect(reachable(".kibana", ["*beat*"])).toBe(false);
    expect(reachable(".tasks", [".tasks"])).toBe(true);
    expect(reachable(".ds-winlogbeat-x-000001", ["winlogbeat-*"])).toBe(true);
    expect(reachable(".ds-logs-app-000002", ["logs-app"])).toBe(true);
    expect(reachable(".ds-logs-app-2026.12.06-000001", ["logs-app"])).toBe(true);
    expect(reachable(".ds-other-000001", ["winlogbeat-*"])).toBe(false);
    expect(reachable(".ds-logs-app-000001", [".ds-*"])).toBe(false);
  });
});
