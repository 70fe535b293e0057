/**
 * Reading and writing `index.*` settings inside settings objects as Elasticsearch returns them in
 * templates: nested (`{"index": {"final_pipeline": …}}`) or flat (`{"index.final_pipeline": …}`).
 */
import type { SettingValue } from "../live/install-state.ts";

type Obj = Record<string, any>;

export function getIndexSetting(settings: Obj | undefined, key: string): SettingValue {
  if (!settings) return { present: false };
  const flat = settings[`index.${key}`];
  if (flat !== undefined && flat !== null) return { present: true, value: String(flat) };
  const nested = settings.index?.[key];
  if (nested !== undefined && nested !== null) return { present: true, value: String(nested) };
  const bare = settings[key];
  if (bare !== undefined && bare !== null) return { present: true, value: String(bare) };
  return { present: false };
}

/** A copy of `settings` with `index.<key>` set (nested form), or removed when `value` is undefined. */
export function withIndexSetting(settings: Obj | undefined, key: string, value: string | undefined): Obj {
  const out: Obj = structuredClone(settings ?? {});
  delete out[`index.${key}`];
  delete out[key];
  if (value === undefined) {
    if (out.index && typeof out.index === "object") {
      delete out.index[key];
      if (Object.keys(out.index).length === 0) delete out.index;
    }
  } else {
    out.index = { ...(out.index ?? {}), [key]: value };
  }
  return out;
}

export function showSetting(v: SettingValue): string {
  return v.present ? String(v.value) : "(absent)";
}
