/**
 * Installs stacked on the same indices: the second install chains the first (`b-chain-a` runs `a`,
 * then `b`). `spliceOut` computes what a final pipeline becomes when one install leaves the stack;
 * install (to leave another install's wiring over ours alone) and uninstall (to re-wire it) use it.
 */
import type { SettingValue, InstallState } from "./install-state.ts";
import { chainName } from "./pipeline-body.ts";

/** Whether a final pipeline value is install `name`'s own pipeline or one of its chains. */
export function isOurs(name: string, v: string | undefined): boolean {
  return v !== undefined && (v === name || v.startsWith(`${name}-chain-`));
}

/** What a final pipeline becomes once `name` is spliced out, and which other install now wires it. */
export interface Resolved {
  value: SettingValue;
  /** The other install whose chain this was, and what it should record as "before" from now on. */
  other?: { name: string; before: SettingValue; chain?: [id: string, previous: string] };
}

export function usable(v: SettingValue): string | undefined {
  return v.present && v.value !== undefined && v.value !== "_none" ? v.value : undefined;
}

/**
 * Splices `name` out of a final pipeline value: `ownBefore` says what one of our own pipelines
 * replaced; another install's chain over ours becomes that install's chain over what we replaced.
 * Undefined when the value does not reach our pipelines.
 */
export function spliceOut(
  name: string,
  v: string | undefined,
  others: InstallState[],
  ownBefore: (own: string) => SettingValue,
): Resolved | undefined {
  if (v === undefined) return undefined;
  for (const k of others) {
    const previous =
      k.chains[v] ??
      (v.startsWith(`${k.name}-chain-`) && !isOurs(name, v) ? v.slice(`${k.name}-chain-`.length) : undefined);
    if (previous === undefined) continue;
    const inner = spliceOut(name, previous, others, ownBefore);
    if (!inner) return undefined;
    const prev = usable(inner.value);
    const target = prev ? chainName(k.name, prev) : k.name;
    return {
      value: { present: true, value: target },
      other: { name: k.name, before: inner.value, ...(prev ? { chain: [target, prev] as [string, string] } : {}) },
    };
  }
  if (isOurs(name, v)) return { value: ownBefore(v) };
  return undefined;
}
