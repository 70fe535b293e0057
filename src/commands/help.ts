/**
 * What every `--help` shows beyond commander's own text (issue 18.6): two to four examples per
 * command, each default printed once (an option whose description already names its default does not
 * get commander's `(default: …)` as well), and the text wrapped to the terminal's width (commander
 * wraps to `process.stdout.columns`, 80 in a pipe).
 */
import { Help, type Command, type Option } from "commander";

/** Examples per command path ("pipeline install"), shortest first. */
const EXAMPLES: Record<string, string[]> = {
  "": [
    "outliers compile rules/ --target pipeline --out pipeline.json",
    "outliers scan rules/ --events logs/Security.evtx",
    "outliers pipeline install rules/ --index 'winlogbeat-*'",
    "outliers backfill rules/ --since 30d",
  ],
  doctor: [
    "outliers doctor --node https://es.example:9200 --api-key $KEY",
    "outliers doctor rules/ --index 'winlogbeat-*'",
    "outliers doctor --json",
  ],
  compile: [
    "outliers compile rules/ --out pipeline.json",
    "outliers compile rules/ --target dsl --out queries.json",
    "outliers compile rules/ --report compile-report.json",
  ],
  pipeline: [
    "outliers pipeline install rules/ --index 'winlogbeat-*'",
    "outliers pipeline status",
    "outliers pipeline uninstall",
  ],
  "pipeline install": [
    "outliers pipeline install rules/ --index 'winlogbeat-*'",
    "outliers pipeline install rules/ --index 'winlogbeat-*' --dry-run",
    "outliers pipeline install rules/windows/ --name win --index 'logs-win-*'",
  ],
  "pipeline uninstall": ["outliers pipeline uninstall", "outliers pipeline uninstall --name win --dry-run"],
  "pipeline status": [
    "outliers pipeline status",
    "outliers pipeline status --verbose",
    "outliers pipeline status --json",
  ],
  "pipeline simulate": [
    "outliers pipeline simulate rules/ --docs events.ndjson",
    "outliers pipeline simulate rule.yml --docs evtx.json --json",
  ],
  ingest: [
    "outliers ingest events.ndjson --index winlogbeat-lab",
    "outliers ingest logs/ --index winlogbeat-lab --create",
    "outliers ingest dump.json --index winlogbeat-lab --format evtx-json",
    "outliers ingest events.ndjson --index winlogbeat-lab --errors failed.ndjson",
  ],
  apply: [
    "outliers apply rules/ --since 30d --dry-run",
    "outliers apply rules/ --since 30d --index 'winlogbeat-*'",
    "outliers apply rules/ --since 30d --min-level high --json",
  ],
  correlate: ["outliers correlate rules/ --once", "outliers correlate rules/ --every 5m --lag 2m"],
  backfill: [
    "outliers backfill rules/ --since 30d",
    "outliers backfill rules/ --since 7d --index 'winlogbeat-*' --dry-run",
    "outliers backfill rules/ --since 2024-01-01T00:00:00Z --until 1d --json",
  ],
  untag: [
    "outliers untag --rule e37db05d-d1f9-49c8-b464-cee1a4b11638",
    "outliers untag --rule 'Mimikatz Use' --dry-run",
    "outliers untag --rule rules/noisy.yml",
    "outliers untag --all --since 7d",
  ],
  scan: [
    "outliers scan rules/ --events logs/Security.evtx",
    "outliers scan rules/ --events events.ndjson --json > tagged.ndjson",
    "outliers scan rule.yml --events a.evtx b.evtx --top 5",
    "outliers scan rules/ --events big.ndjson --workers 2",
  ],
  test: ["outliers test rules/", "outliers test rules/ --node http://localhost:9200", "outliers test rules/ --json"],
  report: [
    "outliers report",
    "outliers report --since 7d --top 10",
    "outliers report --index 'winlogbeat-*' --navigator hits.json",
  ],
};

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** The examples of a command, for tests and docs. */
export function examplesOf(path: string): string[] {
  return EXAMPLES[path] ?? [];
}

/**
 * Each default once: commander appends `(default: …)` to every option that has one, even when the
 * description says it already ("winlogbeat (default)", "default ./rules").
 */
class OneDefaultHelp extends Help {
  override optionDescription(option: Option): string {
    if (/\bdefault\b/i.test(option.description)) return option.description;
    return super.optionDescription(option);
  }

  /**
   * Wrapped to the terminal whatever the longest option: where the term column leaves too little
   * room (commander then stops wrapping), the description goes under the term, wrapped to the width.
   */
  override formatItem(term: string, termWidth: number, description: string, helper: Help): string {
    const width = this.helpWidth ?? 80;
    if (!description || width - termWidth - 4 >= 30) return super.formatItem(term, termWidth, description, helper);
    const indent = 8;
    const wrapped = helper.boxWrap(description, Math.max(width - indent, 20));
    return `  ${term}\n${wrapped.replace(/^/gm, " ".repeat(indent))}`;
  }
}

/** Call before the commands are added: their help inherits it. */
export function configureHelp(program: Command): void {
  program.createHelp = () => {
    const help = Object.assign(new OneDefaultHelp(), program.configureHelp());
    help.minWidthToWrap = 20;
    return help;
  };
}

/** Adds the examples to every command's help (after the commands are registered). */
export function addExamples(program: Command): void {
  const walk = (cmd: Command) => {
    const examples = EXAMPLES[pathOf(cmd)];
    if (examples?.length) cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
    // Subcommands get the same help class.
    if (cmd !== program) cmd.createHelp = program.createHelp;
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
}
