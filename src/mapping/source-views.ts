/**
 * Per-source views of a Windows logsource whose sources rename Sigma fields (process_creation: Sysmon 1
 * `Image`, Security 4688 `NewProcessName`). A rule on such a logsource compiles once per source, with only
 * that source's names, under only that source's guard (Profile.bySource), so a Security 4688 name never
 * matches a Sysmon event, nor a Sysmon name a 4688 event, with or without `not`.
 */
import type { Field, Node } from "../ir/types.ts";
import type { Resolved, SourceView } from "./profile.ts";
import type { WindowsSource } from "./windows-sources.ts";

/** `{ bySource }` when some source of several renames a field; `{}` when every source names fields alike. */
export function sourceViews(
  sources: readonly WindowsSource[],
  guard: (s: WindowsSource) => Node,
  field: (sigmaField: string, source: number) => Resolved<Field[]>,
  keywordFields: (source: number) => Field[],
): { bySource?: SourceView[] } {
  if (sources.length < 2 || !sources.some((s) => s.renames && Object.keys(s.renames).length > 0)) return {};
  return {
    bySource: sources.map((s, i) => ({
      label: s.label,
      guard: guard(s),
      field: (name) => field(name, i),
      keywordFields: () => keywordFields(i),
    })),
  };
}
