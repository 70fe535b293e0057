/**
 * ATT&CK Navigator layers (src/emit/navigator.ts): checked against the layer format 4.5 field by field
 * (test/helpers/navigator-spec.ts), declaring the ATT&CK version their techniques and tactics exist
 * in (or the one asked for), with rule titles in the comments of both kinds of layer.
 */
import { describe, expect, test } from "bun:test";
import type { Rule } from "../../src/ir/types.ts";
import {
  attackVersionFor,
  coverageTechniques,
  firstAttackVersion,
  hitTechniques,
  navigatorLayer,
  parseAttackVersion,
  tacticsOf,
} from "../../src/emit/navigator.ts";
import { layerProblems } from "../helpers/navigator-spec.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

function rule(id: string, title: string, tags: string[]): Rule {
  return { id, title, tags, tagsOut: { techniques: [] } } as unknown as Rule;
}

describe("the layer format 4.5 check", () => {
  test("finds what a layer breaks (so that a passing layer means something)", () => {
    const bad = {
      name: "x",
      versions: { attack: "14", navigator: "4.8.0", layer: "4.4" },
      domain: "enterprise",
      sorting: 5,
      techniques: [{ techniqueID: "t1059", score: "3", note: "x" }],
      gradient: { colors: ["#ffffff"], minValue: 1, maxValue: 1 },
      layout: { aggregateFunction: "median" },
    };
    expect(layerProblems(bad)).toEqual([
      'layer.versions.navigator must be at least "4.9.0"',
      'layer.versions.layer must be one of "4.5"',
      'layer.domain must be one of "enterprise-attack", "mobile-attack", "ics-attack"',
      "layer.sorting must be one of 0, 1, 2, 3",
      "layer.techniques[0].techniqueID must be T#### or T####.###",
      "layer.techniques[0].score must be a number",
      "layer.techniques[0].note is not a property of layer format 4.5",
      "layer.gradient.colors must hold at least two colors",
      "layer.gradient.maxValue must be greater than minValue",
      'layer.layout.aggregateFunction must be one of "average", "min", "max", "sum"',
    ]);
    expect(layerProblems({ versions: { navigator: "5.2.0", layer: "4.5" } })).toEqual([
      "layer.name is required",
      "layer.domain is required",
    ]);
  });
});

describe("navigator layers", () => {
  test("the first ATT&CK version of techniques and tactics; a layer declares the newest it needs, at least 14", () => {
    expect(firstAttackVersion("T1059.001")).toBe(14);
    expect(firstAttackVersion("t1685")).toBe(19);
    expect(firstAttackVersion("T1665")).toBe(15);
    expect(firstAttackVersion("defense-impairment")).toBe(19);
    expect(firstAttackVersion("stealth")).toBe(19);
    expect(firstAttackVersion("execution")).toBe(14);
    expect(attackVersionFor(["T1027", "T1059"])).toBe("14");
    expect(attackVersionFor(["T1027", "defense-impairment"])).toBe("19");
    expect(parseAttackVersion("v18")).toBe("18");
    expect(() => parseAttackVersion("latest")).toThrow("--attack-version");
  });

  test("a coverage layer of rules with v19 techniques declares 19, or what --attack-version says", () => {
    const rules = [
      rule("a", "Rule A", ["attack.t1685", "attack.defense-impairment"]),
      rule("b", "Rule B", ["attack.t1059.001", "attack.execution"]),
    ];
    const l = navigatorLayer("n", "d", coverageTechniques(rules), { tactics: tacticsOf(rules) });
    expect(l.versions).toEqual({ attack: "19", navigator: "5.2.0", layer: "4.5" });
    expect(layerProblems(l)).toEqual([]);
    const old = [rule("b", "Rule B", ["attack.t1059.001", "attack.execution"])];
    expect(navigatorLayer("n", "d", coverageTechniques(old), { tactics: tacticsOf(old) }).versions.attack).toBe("14");
    expect(navigatorLayer("n", "d", coverageTechniques(rules), { attackVersion: "18" }).versions.attack).toBe("18");
  });

  test("the hits layer's comments name the rules with their events, most first", () => {
    const t = hitTechniques(
      [{ id: "t1059", count: 7 }],
      new Map([
        [
          "t1059",
          new Map([
            ["r2", 2],
            ["r1", 5],
            ["gone", 1],
          ]),
        ],
      ]),
      new Map([
        ["r1", "Rule One"],
        ["r2", "Rule Two"],
      ]),
    );
    expect(t).toEqual([
      { techniqueID: "T1059", score: 7, comment: "7 tagged event(s); 3 rule(s): Rule One (5); Rule Two (2); gone (1)" },
    ]);
    expect(layerProblems(navigatorLayer("hits", "d", t))).toEqual([]);
  });

  test.skipIf(!SHARED)("the coverage layer of SigmaHQ's Windows rules conforms and declares ATT&CK 19", () => {
    if (!SHARED) throw new Error(SKIP_MESSAGE);
    const rules = windowsRules();
    const l = navigatorLayer("coverage", "d", coverageTechniques(rules), { tactics: tacticsOf(rules) });
    expect(layerProblems(l)).toEqual([]);
    expect(l.versions.attack).toBe("19");
    const t1685 = l.techniques.find((t) => t.techniqueID === "T1685")!;
    expect(t1685.score).toBeGreaterThan(100);
    expect(t1685.comment).toMatch(/^\d+ rule\(s\): /);
  });
});
