/** Hand-built rules in the representation, for emitter tests that must not wait for a front end. */
import type { Field, Node, Rule } from "../../src/ir/types.ts";

export const kw = (name: string): Field => ({ name, type: "keyword" });
export const long = (name: string): Field => ({ name, type: "long" });
export const ip = (name: string): Field => ({ name, type: "ip" });

export function rule(id: string, condition: Node, more: Partial<Rule> = {}): Rule {
  return {
    id,
    title: `Rule ${id}`,
    references: [],
    falsepositives: [],
    tags: [],
    logsource: { product: "windows" },
    source: { format: "sigma", path: `${id}.yml` },
    index: ["winlogbeat-*"],
    timeField: "@timestamp",
    condition,
    tagsOut: {
      type: ["Sigma hit"],
      reason: `Sigma hit - Rule ${id}`,
      summary: `Sigma hit - Rule ${id}`,
      modelName: `Rule ${id}`,
      modelType: "sigma",
      techniques: [],
      extra: {},
    },
    ...more,
  };
}
