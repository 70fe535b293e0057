/** The one redaction (src/util/redact.ts): every form a secret takes is hidden, ordinary text is not. */
import { beforeEach, expect, test } from "bun:test";
import { clearSecrets, redact, registerConnection, registerFromArgs } from "../../src/util/redact.ts";

beforeEach(() => clearSecrets());

test("nothing registered: text passes unchanged (compile output keeps 'Basic auth' and URLs with user info)", () => {
  const t = "Basic authentication via http://user:pw@host/x, Authorization: Basic abcd";
  expect(redact(t)).toBe(t);
});

test("a password in every encoding, its Basic base64, and URL user info", () => {
  registerFromArgs(["doctor", "--username", "elastic", "--password", "p@ss w/rd+1"], {});
  const basic = Buffer.from("elastic:p@ss w/rd+1").toString("base64");
  for (const form of [
    "p@ss w/rd+1",
    encodeURIComponent("p@ss w/rd+1"),
    "p%40ss+w%2Frd%2B1",
    "p%40ss%20w%2frd%2b1",
    basic,
    basic.replace(/=+$/, ""),
  ])
    expect(redact(`x ${form} y`)).toBe("x *** y");
  expect(redact("see https://elastic:whatever@es:9200/")).toBe("see https://es:9200/");
  expect(redact(`{"authorization":"Basic Zm9vOmJhcg=="}`)).toBe(`{"authorization":"Basic ***"}`);
});

test("an API key: encoded, decoded id:key, the key part", () => {
  const key = Buffer.from("myid:the-key-part").toString("base64");
  registerFromArgs(["backfill", `--api-key=${key}`], {});
  for (const form of [key, "myid:the-key-part", "the-key-part"]) expect(redact(`[${form}]`)).toBe("[***]");
});

test("mistyped secret options and credentials in a scheme-less --node or ES_URL", () => {
  registerFromArgs(["doctor", "--pasword=typo-secret", "--node", "bob:node-secret@es:9200"], {
    ES_URL: "http://al:env-secret@h",
  });
  expect(redact("typo-secret node-secret env-secret bob:node-secret@es")).toBe("*** *** *** ***@es");
});

test("connection options registered later (env fallbacks resolved by the command)", () => {
  registerConnection({ node: "http://u:url-pass@h:9200", apiKey: "id9:k9-secret" });
  expect(redact("url-pass k9-secret id9:k9-secret " + Buffer.from("u:url-pass").toString("base64"))).toBe(
    "*** *** *** ***",
  );
});
