/**
 * Text from a sandbox or an agent, made safe to show on a terminal. Such text is hostile: escape sequences
 * can set the window title, rewrite the clipboard (OSC 52), move the cursor to overwrite what was printed,
 * fake a prompt, hide text, or answer queries into the input. Only colour survives: SGR (`ESC [ … m`) with
 * plain numeric parameters, minus "conceal". Line feeds and tabs pass; a lone carriage return (which can
 * print over a line) becomes a line feed; every other C0 or C1 control and DEL is dropped.
 */
export interface TerminalTextFilter {
  /** Filters the next piece of a stream; a sequence cut at the end is held until the next piece. */
  write(text: string): string;
  /** Ends the stream: an unfinished sequence is dropped. */
  end(): string;
}

const ESC = "\u001b";
const BEL = "\u0007";
/** CSI sequences longer than this are not colour anyone writes; they are dropped whole. */
const maximumCSILength = 64;

type State =
  | { kind: "text" }
  | { kind: "escape" } // after ESC
  | { kind: "escape-intermediate" } // ESC followed by 0x20–0x2f, waiting for its final byte
  | { kind: "csi"; body: string; keep: boolean } // keep: started as ESC [ (a C1 CSI is never kept)
  | { kind: "string"; afterEscape: boolean } // OSC, DCS, SOS, PM, APC: dropped up to BEL or ST
  | { kind: "carriage-return" };

export function createTerminalTextFilter(): TerminalTextFilter {
  let state: State = { kind: "text" };

  function step(char: string, output: string[]): void {
    const code = char.codePointAt(0)!;
    switch (state.kind) {
      case "carriage-return":
        state = { kind: "text" };
        output.push("\n");
        if (char === "\n") return;
        return step(char, output);
      case "escape":
        if (char === "[") state = { kind: "csi", body: "", keep: true };
        else if ("]PX^_".includes(char)) state = { kind: "string", afterEscape: false };
        else if (code >= 0x20 && code <= 0x2f) state = { kind: "escape-intermediate" };
        else if (char === ESC) state = { kind: "escape" };
        else state = { kind: "text" }; // a two-character escape (ESC 7, ESC c, ESC =…): dropped
        return;
      case "escape-intermediate":
        if (code >= 0x30 && code <= 0x7e) state = { kind: "text" };
        else if (!(code >= 0x20 && code <= 0x2f)) {
          state = { kind: "text" };
          step(char, output);
        }
        return;
      case "csi":
        if (code >= 0x40 && code <= 0x7e) {
          if (state.keep && char === "m" && isColour(state.body)) output.push(`${ESC}[${state.body}m`);
          state = { kind: "text" };
        } else if (code >= 0x20 && code <= 0x3f) {
          // An overlong one is still consumed to its end, but no longer gathered, and never kept.
          if (state.body.length < maximumCSILength) state.body += char;
          else state.keep = false;
        } else {
          // Not a well-formed CSI: drop what was gathered and read on as text.
          state = { kind: "text" };
          if (code < 0x20 || code > 0x7e) step(char, output);
        }
        return;
      case "string":
        if (char === BEL || code === 0x9c || (state.afterEscape && char === "\\")) state = { kind: "text" };
        else state.afterEscape = char === ESC;
        return;
      case "text":
        if (char === ESC) state = { kind: "escape" };
        else if (code === 0x9b) state = { kind: "csi", body: "", keep: false };
        else if (code === 0x90 || code === 0x98 || code === 0x9d || code === 0x9e || code === 0x9f) state = { kind: "string", afterEscape: false };
        else if (char === "\r") state = { kind: "carriage-return" };
        else if (char === "\n" || char === "\t" || !isControl(code)) output.push(char);
        return;
    }
  }

  return {
    write(text) {
      const output: string[] = [];
      for (const char of text) step(char, output);
      return output.join("");
    },
    end() {
      const ending = state.kind === "carriage-return" ? "\n" : "";
      state = { kind: "text" };
      return ending;
    },
  };
}

/** The whole of a text, filtered (see createTerminalTextFilter). */
export function stripControlSequences(text: string): string {
  const filter = createTerminalTextFilter();
  return filter.write(text) + filter.end();
}

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * SGR parameters that only colour or style text: numbers joined by `;` (sub-parameters by `:`), no private
 * markers. Conceal (8) is refused, since hidden text is how an instruction would hide from the reader;
 * extended colours (38/48/58;5;n and ;2;r;g;b) are walked over so their numbers are not read as styles.
 */
function isColour(body: string): boolean {
  if (!/^[0-9;:]*$/.test(body)) return false;
  const parameters = body.split(";");
  for (let index = 0; index < parameters.length; index += 1) {
    const parameter = parameters[index]!;
    if (parameter === "38" || parameter === "48" || parameter === "58") {
      index += parameters[index + 1] === "5" ? 2 : parameters[index + 1] === "2" ? 4 : 0;
    } else if (Number(parameter) === 8 && parameter !== "") {
      return false;
    }
  }
  return true;
}
