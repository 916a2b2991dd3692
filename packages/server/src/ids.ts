import { randomBytes } from "node:crypto";

/** Crockford base32, lower case: sortable as text, no ambiguous letters. */
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

export type IDPrefix = "sbx" | "ses" | "art" | "snap" | "img" | "bld" | "vol" | "ws" | "usr" | "tok" | "apr" | "aud";

/** `<prefix>_<10 chars of milliseconds><16 random chars>`: ULID-shaped, so ids sort by creation time. */
export function newID(prefix: IDPrefix, now = Date.now()): string {
  let time = "";
  let remaining = now;
  for (let index = 0; index < 10; index += 1) {
    time = alphabet[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  const random = randomBytes(16);
  let suffix = "";
  for (const byte of random) suffix += alphabet[byte % 32];
  return `${prefix}_${time}${suffix}`;
}

export function hasPrefix(id: string, prefix: IDPrefix): boolean {
  return id.startsWith(`${prefix}_`) && /^[a-z]+_[0-9a-z]{26}$/.test(id);
}

/** The milliseconds an id was made at; undefined for a string that is not one of our ids. */
export function idTime(id: string): number | undefined {
  const match = /^[a-z]+_([0-9a-z]{10})[0-9a-z]{16}$/.exec(id);
  if (!match) return undefined;
  let time = 0;
  for (const character of match[1]!) {
    const digit = alphabet.indexOf(character);
    if (digit < 0) return undefined;
    time = time * 32 + digit;
  }
  return time;
}
