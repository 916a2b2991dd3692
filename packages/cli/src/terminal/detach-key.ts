/** Ctrl-] ends an attach and leaves the process running, as in telnet and docker attach. */
export const detachKey = 0x1d;

/** Splits typed bytes at the detach key: what goes to the process, and whether the user asked to detach. */
export function splitAtDetachKey(chunk: Uint8Array): { forward: Uint8Array; detach: boolean } {
  const index = chunk.indexOf(detachKey);
  if (index === -1) return { forward: chunk, detach: false };
  return { forward: chunk.subarray(0, index), detach: true };
}
