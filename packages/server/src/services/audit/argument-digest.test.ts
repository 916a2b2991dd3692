import { describe, expect, test } from "vitest";
import { argumentDigest, canonicalArguments } from "./argument-digest.js";

describe("argument digest", () => {
  test("key order does not change the digest", () => {
    expect(argumentDigest({ a: 1, b: { c: 2, d: 3 } })).toBe(argumentDigest({ b: { d: 3, c: 2 }, a: 1 }));
  });

  test("contents, stdin and env values never reach the canonical form", () => {
    const text = canonicalArguments({ path: "/workspace/a", content: "top secret", env: { TOKEN: "hunter2" }, stdin: "pw", body: Buffer.from("raw-payload") });
    expect(text).not.toContain("top secret");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain('"pw"');
    expect(text).not.toContain("raw-payload");
    expect(text).toContain("TOKEN");
    expect(text).toContain("/workspace/a");
  });

  test("different contents digest differently, streams are a placeholder", async () => {
    expect(argumentDigest({ content: "a" })).not.toBe(argumentDigest({ content: "b" }));
    const { Readable } = await import("node:stream");
    expect(canonicalArguments({ stream: Readable.from(["x"]) })).toBe('{"stream":"[stream]"}');
  });
});
