/**
 * The ATT&CK Navigator layer file format 4.5, field by field, as its specification states it
 * (mitre-attack/attack-navigator, layers/spec/v4.5/layerformat.md): every property a layer may hold
 * with its type, the required ones, and the values the spec allows. `layerProblems` lists what a
 * layer breaks (empty when it conforms).
 */
type Check = (v: unknown) => string | undefined;

const str: Check = (v) => (typeof v === "string" ? undefined : "must be a string");
const num: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number");
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "must be a boolean");
const oneOf =
  (...values: unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
const color: Check = (v) =>
  typeof v === "string" && /^#[0-9a-f]{6}$/i.test(v) ? undefined : "must be a #rrggbb color";

interface Spec {
  required: string[];
  fields: Record<string, (v: unknown, where: string, out: string[]) => void>;
}

function leaf(c: Check) {
  return (v: unknown, where: string, out: string[]) => {
    const e = c(v);
    if (e) out.push(`${where} ${e}`);
  };
}

function object(spec: Spec) {
  return (v: unknown, where: string, out: string[]) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) {
      out.push(`${where} must be an object`);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of spec.required) if (!(k in o)) out.push(`${where}.${k} is required`);
    for (const [k, val] of Object.entries(o)) {
      const f = spec.fields[k];
      if (!f) out.push(`${where}.${k} is not a property of layer format 4.5`);
      else f(val, `${where}.${k}`, out);
    }
  };
}

function array(item: (v: unknown, where: string, out: string[]) => void) {
  return (v: unknown, where: string, out: string[]) => {
    if (!Array.isArray(v)) {
      out.push(`${where} must be an array`);
      return;
    }
    for (const [i, x] of v.entries()) item(x, `${where}[${i}]`, out);
  };
}

const metadataOrDivider = (v: unknown, where: string, out: string[]) =>
  v && typeof v === "object" && "divider" in (v as object)
    ? object({ required: ["divider"], fields: { divider: leaf(bool) } })(v, where, out)
    : object({ required: ["name", "value"], fields: { name: leaf(str), value: leaf(str) } })(v, where, out);
const linkOrDivider = (v: unknown, where: string, out: string[]) =>
  v && typeof v === "object" && "divider" in (v as object)
    ? object({ required: ["divider"], fields: { divider: leaf(bool) } })(v, where, out)
    : object({
        required: ["label", "url"],
        fields: {
          label: leaf(str),
          url: leaf((u) =>
            typeof u === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? undefined : "must be a URL with its protocol",
          ),
        },
      })(v, where, out);

/** "4.10.2" >= "4.9.0" */
function atLeast(v: string, min: string): boolean {
  const a = v.split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const LAYER = object({
  required: ["name", "domain", "versions"],
  fields: {
    versions: object({
      required: ["navigator", "layer"],
      fields: {
        attack: leaf((v) =>
          typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? undefined : "must be an ATT&CK version string",
        ),
        navigator: leaf((v) =>
          typeof v === "string" && /^\d+\.\d+\.\d+$/.test(v) && atLeast(v, "4.9.0")
            ? undefined
            : 'must be at least "4.9.0"',
        ),
        layer: leaf(oneOf("4.5")),
      },
    }),
    name: leaf(str),
    description: leaf(str),
    domain: leaf(oneOf("enterprise-attack", "mobile-attack", "ics-attack")),
    customDataURL: leaf(str),
    filters: object({ required: [], fields: { platforms: array(leaf(str)) } }),
    sorting: leaf(oneOf(0, 1, 2, 3)),
    layout: object({
      required: [],
      fields: {
        layout: leaf(oneOf("side", "flat", "mini")),
        showID: leaf(bool),
        showName: leaf(bool),
        showAggregateScores: leaf(bool),
        countUnscored: leaf(bool),
        aggregateFunction: leaf(oneOf("average", "min", "max", "sum")),
        expandedSubtechniques: leaf(oneOf("none", "all", "annotated")),
      },
    }),
    hideDisabled: leaf(bool),
    techniques: array(
      object({
        required: ["techniqueID"],
        fields: {
          techniqueID: leaf((v) =>
            typeof v === "string" && /^T\d{4}(\.\d{3})?$/.test(v) ? undefined : "must be T#### or T####.###",
          ),
          tactic: leaf((v) =>
            typeof v === "string" && /^[a-z]+(-[a-z]+)*$/.test(v) ? undefined : "must be a tactic short name",
          ),
          comment: leaf(str),
          enabled: leaf(bool),
          score: leaf(num),
          color: leaf((v) => (v === "" ? undefined : color(v))),
          metadata: array(metadataOrDivider),
          links: array(linkOrDivider),
          showSubtechniques: leaf(bool),
        },
      }),
    ),
    gradient: (v: unknown, where: string, out: string[]) => {
      object({
        required: ["colors", "minValue", "maxValue"],
        fields: { colors: array(leaf(color)), minValue: leaf(num), maxValue: leaf(num) },
      })(v, where, out);
      const g = v as { colors?: unknown[]; minValue?: number; maxValue?: number };
      if (Array.isArray(g?.colors) && g.colors.length < 2) out.push(`${where}.colors must hold at least two colors`);
      if (typeof g?.minValue === "number" && typeof g?.maxValue === "number" && !(g.maxValue > g.minValue))
        out.push(`${where}.maxValue must be greater than minValue`);
    },
    legendItems: array(object({ required: ["label", "color"], fields: { label: leaf(str), color: leaf(color) } })),
    showTacticRowBackground: leaf(bool),
    tacticRowBackground: leaf(color),
    selectTechniquesAcrossTactics: leaf(bool),
    selectSubtechniquesWithParent: leaf(bool),
    selectVisibleTechniques: leaf(bool),
    metadata: array(metadataOrDivider),
    links: array(linkOrDivider),
  },
});

/** What `layer` breaks of the layer format 4.5 (empty: it conforms). */
export function layerProblems(layer: unknown): string[] {
  const out: string[] = [];
  LAYER(layer, "layer", out);
  return out;
}
