/**
 * A tiny mapping profile for the Sigma front-end tests (not the product's profiles): every
 * logsource is supported except `product: unsupportedproduct`; Sigma field `X` is
 * `winlog.event_data.X` (keyword), `EventID` is `winlog.event_id` (long), `Channel` is
 * `winlog.channel`, `Size` is `winlog.event_data.Size` (long), `SourceIp` is an ip field, `Text`
 * a text field. `service` guards on the channel, `category` on `event.category`.
 */
import type { Field } from "../../src/ir/types.ts";
import { and, TRUE } from "../../src/ir/build.ts";
import type { Logsource, Profile } from "../../src/mapping/profile.ts";

const SPECIAL: Record<string, Field> = {
  EventID: { name: "winlog.event_id", type: "long" },
  Channel: { name: "winlog.channel", type: "keyword" },
  Size: { name: "winlog.event_data.Size", type: "long" },
  SourceIp: { name: "winlog.event_data.SourceIp", type: "ip" },
  Text: { name: "message", type: "text", keywordSubfield: "keyword" },
};

export const testProfile: Profile = {
  name: "test",
  timeField: "@timestamp",
  logsource(ls: Logsource) {
    if (ls.product === "unsupportedproduct")
      return { unsupported: `logsource product 'unsupportedproduct' is not supported by profile 'test'` };
    const guards = [];
    if (ls.service) guards.push({ kind: "equals" as const, field: SPECIAL.Channel!, value: ls.service, cased: false });
    if (ls.category)
      guards.push({
        kind: "equals" as const,
        field: { name: "event.category", type: "keyword" as const },
        value: ls.category,
        cased: false,
      });
    return { index: [`${ls.product ?? "logs"}-*`], guard: guards.length ? and(guards) : TRUE };
  },
  field(name: string) {
    if (name === "Unmapped") return { unsupported: "field 'Unmapped' is not mapped by profile 'test'" };
    if (name === "Hashes")
      return [
        { name: "winlog.event_data.Hashes", type: "keyword" },
        { name: "hash.all", type: "keyword" },
      ];
    return [SPECIAL[name] ?? { name: `winlog.event_data.${name}`, type: "keyword" }];
  },
  keywordFields() {
    return [
      { name: "message", type: "text", keywordSubfield: "keyword" },
      { name: "winlog.event_data.CommandLine", type: "keyword" },
    ];
  },
  guardCosts: {},
  fieldType(name: string) {
    return Object.values(SPECIAL).find((f) => f.name === name) ?? { name, type: "keyword" };
  },
  indexTemplate() {
    return { mappings: {} };
  },
};
