import { describe, expect, test } from "bun:test";
import { formatSigmaString, parseSigmaString, parseSigmaStringWithPlaceholders } from "../../src/rules/sigma/values.ts";
import type { WildcardPart } from "../../src/ir/types.ts";

const lit = (s: string): WildcardPart => ({ lit: s });
const ANY: WildcardPart = { any: true };
const ONE: WildcardPart = { one: true };

// Every case of the specification's "Escaping" section, written as the YAML text would hold them
// (String.raw so a backslash here is one backslash in the rule).
describe("Sigma string values: wildcards and escaping per the specification", () => {
  test("plain text is one literal; the empty string is no parts", () => {
    expect(parseSigmaString("cmd.exe")).toEqual([lit("cmd.exe")]);
    expect(parseSigmaString("")).toEqual([]);
  });

  test("* is any run of characters, ? exactly one", () => {
    expect(parseSigmaString("prog?.exe")).toEqual([lit("prog"), ONE, lit(".exe")]);
    expect(parseSigmaString("antivirus_V*.exe")).toEqual([lit("antivirus_V"), ANY, lit(".exe")]);
    expect(parseSigmaString("*")).toEqual([ANY]);
    expect(parseSigmaString("**")).toEqual([ANY, ANY]);
  });

  test("a plain backslash not followed by a wildcard stays a backslash (single notation)", () => {
    expect(parseSigmaString(String.raw`C:\Windows\System32\cmd.exe`)).toEqual([
      lit(String.raw`C:\Windows\System32\cmd.exe`),
    ]);
    expect(parseSigmaString(String.raw`\cmd.exe`)).toEqual([lit(String.raw`\cmd.exe`)]);
  });

  test("a trailing single backslash stays a backslash", () => {
    expect(parseSigmaString("C:\\Windows\\")).toEqual([lit("C:\\Windows\\")]);
    expect(parseSigmaString("\\")).toEqual([lit("\\")]);
  });

  test("a plain backslash may also be written double: \\\\ is one backslash", () => {
    expect(parseSigmaString(String.raw`C:\\Windows\\cmd.exe`)).toEqual([lit(String.raw`C:\Windows\cmd.exe`)]);
    expect(parseSigmaString("C:\\\\Windows\\\\")).toEqual([lit("C:\\Windows\\")]);
  });

  test("an escaped wildcard is a plain character: \\* and \\?", () => {
    expect(parseSigmaString(String.raw`a\*b`)).toEqual([lit("a*b")]);
    expect(parseSigmaString(String.raw`what\?`)).toEqual([lit("what?")]);
    expect(parseSigmaString(String.raw`\*`)).toEqual([lit("*")]);
  });

  test("\\\\* is a backslash followed by the wildcard", () => {
    expect(parseSigmaString(String.raw`C:\\*`)).toEqual([lit("C:\\"), ANY]);
    expect(parseSigmaString(String.raw`\\?x`)).toEqual([lit("\\"), ONE, lit("x")]);
  });

  test("a single backslash before * still escapes it (the wildcard is literal)", () => {
    expect(parseSigmaString(String.raw`C:\*`)).toEqual([lit("C:*")]);
  });

  test("\\\\\\* (three backslashes) is a backslash and a plain *", () => {
    expect(parseSigmaString(String.raw`a\\\*`)).toEqual([lit(String.raw`a\*`)]);
    expect(parseSigmaString(String.raw`a\\\?`)).toEqual([lit(String.raw`a\?`)]);
  });

  test("three or four backslashes are two plain backslashes", () => {
    expect(parseSigmaString(String.raw`\\\\server`)).toEqual([lit(String.raw`\\server`)]);
    expect(parseSigmaString(String.raw`\\\server`)).toEqual([lit(String.raw`\\server`)]);
    expect(parseSigmaString("x\\\\\\\\")).toEqual([lit("x\\\\")]);
    expect(parseSigmaString("x\\\\\\")).toEqual([lit("x\\\\")]);
  });

  test("four backslashes before * are two backslashes then the wildcard", () => {
    expect(parseSigmaString(String.raw`\\\\*`)).toEqual([lit("\\\\"), ANY]);
  });

  test("wildcards and backslashes mixed as in real rules", () => {
    // SigmaHQ writes `\\*` for "a backslash, then anything"
    expect(parseSigmaString(String.raw`*\AppData\Local\Temp\\*.exe`)).toEqual([
      ANY,
      lit("\\AppData\\Local\\Temp\\"),
      ANY,
      lit(".exe"),
    ]);
    // ... because a single backslash before * makes the star literal
    expect(parseSigmaString(String.raw`*\Temp\*.exe`)).toEqual([ANY, lit("\\Temp*.exe")]);
  });

  test("formatSigmaString is the inverse of parsing", () => {
    for (const s of ["C:\\\\Windows\\\\", String.raw`a\*b*`, "x?y", String.raw`\\\\srv\\*`]) {
      expect(parseSigmaString(formatSigmaString(parseSigmaString(s)))).toEqual(parseSigmaString(s));
    }
  });
});

describe("placeholders (only with expand)", () => {
  test("%name% is a placeholder, \\% a plain percent sign", () => {
    expect(parseSigmaStringWithPlaceholders("%Servers%")).toEqual([{ ph: "Servers" }]);
    expect(parseSigmaStringWithPlaceholders(String.raw`\%plain%name%`)).toEqual([lit("%plain"), { ph: "name" }]);
    expect(parseSigmaStringWithPlaceholders("*%a%\\x")).toEqual([ANY, { ph: "a" }, lit("\\x")]);
  });

  test("without expand, %name% is literal text", () => {
    expect(parseSigmaString("%Servers%")).toEqual([lit("%Servers%")]);
  });

  test("a lone % is literal", () => {
    expect(parseSigmaStringWithPlaceholders("100%")).toEqual([lit("100%")]);
  });
});
