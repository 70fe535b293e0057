import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { renderLogsourceDoc } from "../../scripts/lib/logsource-doc.ts";

test("docs/logsources.md is generated from the current mapping tables (run scripts/gen-logsource-doc)", () => {
  const file = path.resolve(import.meta.dir, "../../docs/logsources.md");
  expect(readFileSync(file, "utf8")).toBe(renderLogsourceDoc());
});
