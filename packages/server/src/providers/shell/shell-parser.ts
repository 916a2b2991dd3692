import type { NewSessionEvent } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";

/** A script's output has no structure: every line is passed on as stdout bytes, newline restored. */
export function createShellParser(): AgentOutputParser {
  return {
    parseLine(line: string): NewSessionEvent[] {
      const data = Buffer.from(`${line}\n`, "utf8").toString("base64");
      return [{ type: "shell.output", data: { stream: "stdout", data } }];
    },
    finish: () => [],
  };
}
