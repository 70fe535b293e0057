/** Compiles a Sigma rule given as YAML text with the test profile; helpers for the Sigma tests. */
import type { CompileResult, Node, Rule } from "../../src/ir/types.ts";
import { compileSigmaText } from "../../src/rules/sigma/index.ts";
import { testProfile } from "./sigma-test-profile.ts";

export function compileYaml(
  text: string,
  placeholders?: Record<string, string[]>,
  path = "rules/test_rule.yml",
): CompileResult[] {
  return compileSigmaText(path, text, { profile: testProfile, placeholders });
}

/** A one-document rule (product only, so no guard) with the given detection block (YAML, indented 4). */
export function ruleWith(detection: string, extra = ""): string {
  return `title: Test rule
id: 11111111-2222-3333-4444-555555555555
status: test
logsource:
    product: windows
${extra}detection:
${detection}
level: high
`;
}

export function okRule(r: CompileResult | undefined): Rule {
  if (!r || r.status !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.rule;
}

/** The condition of a one-document rule built with `ruleWith`. */
export function cond(detection: string, placeholders?: Record<string, string[]>): Node {
  return okRule(compileYaml(ruleWith(detection), placeholders)[0]).condition;
}

/** The failure of a one-document rule. */
export function failure(detection: string, placeholders?: Record<string, string[]>): { status: string; error: string } {
  const r = compileYaml(ruleWith(detection), placeholders)[0]!;
  if (r.status === "ok") throw new Error(`expected a failure, got ok: ${JSON.stringify(r.rule.condition)}`);
  return { status: r.status, error: r.error };
}

export const F = (name: string) => ({ name: `winlog.event_data.${name}`, type: "keyword" as const });
