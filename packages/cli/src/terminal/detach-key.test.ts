import { expect, test } from "vitest";
import { splitAtDetachKey } from "./detach-key.js";

test("bytes pass through until Ctrl-], which detaches and drops what follows", () => {
  expect(splitAtDetachKey(Buffer.from("ls\r"))).toEqual({ forward: Buffer.from("ls\r"), detach: false });
  expect(splitAtDetachKey(Buffer.from("ab\x1dcd"))).toEqual({ forward: Buffer.from("ab"), detach: true });
  expect(splitAtDetachKey(Buffer.from("\x1d"))).toEqual({ forward: Buffer.from(""), detach: true });
});
