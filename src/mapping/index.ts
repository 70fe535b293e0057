/**
 * Mapping profiles: `loadProfile("winlogbeat")` (the default), `loadProfile("ecs")`, or a path to a
 * sigmac-style mapping YAML file. See profile.ts for the interface and docs/logsources.md for the
 * logsource tables.
 */
import { existsSync } from "node:fs";
import { UsageError } from "../util/errors.ts";
import type { Profile } from "./profile.ts";
import { ecsProfile } from "./ecs.ts";
import { loadSigmacProfile } from "./sigmac.ts";
import { winlogbeatProfile } from "./winlogbeat.ts";
import { own } from "./lookup.ts";

export type { Logsource, LogsourceTarget, Profile, Resolved } from "./profile.ts";
export { isUnsupported } from "./profile.ts";

export const DEFAULT_PROFILE = "winlogbeat";

const BUILTIN: Record<string, () => Profile> = {
  winlogbeat: () => winlogbeatProfile,
  ecs: () => ecsProfile,
};

export const BUILTIN_PROFILES = Object.keys(BUILTIN);

/**
 * A profile by name, or from a sigmac-style mapping file when the argument is not a built-in name.
 * Throws InputError (exit 2) naming the file and the place for a bad file.
 */
export function loadProfile(nameOrPath: string = DEFAULT_PROFILE): Profile {
  const builtin = own(BUILTIN, nameOrPath.toLowerCase());
  if (builtin) return builtin();
  if (existsSync(nameOrPath) || /\.ya?ml$/i.test(nameOrPath) || /[\\/]/.test(nameOrPath)) {
    return loadSigmacProfile(nameOrPath);
  }
  throw new UsageError(
    `unknown mapping '${nameOrPath}': use ${BUILTIN_PROFILES.join(", ")} or a sigmac mapping YAML file`,
  );
}
