import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { signDownload, verifyDownload } from "./download-signature.js";

const key = randomBytes(32);
const now = Date.UTC(2026, 0, 1, 12);
const expires = now / 1000 + 60;

test("a signature holds for its id and expiry only, until it expires", () => {
  const signature = signDownload(key, "art_1\nusr_1", expires);
  expect(verifyDownload(key, "art_1\nusr_1", expires, signature, now)).toBe("ok");
  expect(verifyDownload(key, "art_2\nusr_1", expires, signature, now)).toBe("bad");
  expect(verifyDownload(key, "art_1\nusr_2", expires, signature, now)).toBe("bad");
  expect(verifyDownload(key, "art_1\nusr_1", expires + 1, signature, now)).toBe("bad");
  expect(verifyDownload(randomBytes(32), "art_1\nusr_1", expires, signature, now)).toBe("bad");
  expect(verifyDownload(key, "art_1\nusr_1", expires, "short", now)).toBe("bad");
  expect(verifyDownload(key, "art_1\nusr_1", expires, signature, now + 61_000)).toBe("expired");
});
