const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Progress {
  update(text: string): void;
  /** Clears the line; safe to call more than once. */
  stop(): void;
}

/** A one-line spinner on a terminal; nothing at all when the stream is a pipe or a file. */
export function createProgress(stream: NodeJS.WriteStream): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  let frame = 0;
  let shown = false;
  return {
    update(text) {
      const width = Math.max(10, (stream.columns || 80) - 3);
      stream.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${text.slice(0, width)}`);
      shown = true;
    },
    stop() {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
