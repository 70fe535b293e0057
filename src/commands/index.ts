/** Every command of the CLI, in the order `--help` lists them. Add one line per command. */
import type { Command } from "commander";
import { register as doctor } from "./doctor.ts";
import { register as compile } from "./compile.ts";
import { register as pipeline } from "./pipeline.ts";
import { register as ingest } from "./ingest.ts";
import { register as backfill } from "./backfill.ts";
import { register as correlate } from "./correlate.ts";
import { register as untag } from "./untag.ts";
import { register as apply } from "./apply.ts";
import { register as scan } from "./scan.ts";
import { register as test } from "./test.ts";
import { register as report } from "./report.ts";

export const commands: Array<(program: Command) => void> = [
  doctor,
  compile,
  pipeline,
  ingest,
  backfill,
  correlate,
  untag,
  apply,
  scan,
  test,
  report,
];
