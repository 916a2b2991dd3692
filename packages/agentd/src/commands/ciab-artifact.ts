import path from "node:path";
import { parseArgs } from "node:util";

/**
 * `ciab-artifact publish PATH [--mime M] [--description D]`, run inside a session's sandbox. It posts to
 * the model gateway's relay with the session's gateway token, which is good only on this sandbox's
 * gateway and only while the session lives (docs/decisions/0017-artifacts.md).
 */
const usage = "usage: ciab-artifact publish PATH [--mime TYPE] [--description TEXT]";

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { mime: { type: "string" }, description: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || positionals[0] !== "publish" || positionals.length !== 2) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const gateway = process.env.CIAB_GATEWAY_URL;
  const token = process.env.CIAB_SESSION_TOKEN;
  if (!gateway || !token) {
    process.stderr.write("ciab-artifact: no session here (CIAB_GATEWAY_URL and CIAB_SESSION_TOKEN are set in sessions only); publish with `ciab artifact publish` from outside\n");
    return 2;
  }
  const body = {
    path: path.resolve(process.cwd(), positionals[1]!),
    ...(values.mime !== undefined && { mime: values.mime }),
    ...(values.description !== undefined && { description: values.description }),
  };
  const response = await fetch(`${gateway}/ciab/artifacts`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (error) message = `${error.code}: ${error.message}`;
    } catch {
      // not JSON: print it as it came
    }
    process.stderr.write(`ciab-artifact: ${message}\n`);
    return 1;
  }
  process.stdout.write(`${text}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`ciab-artifact: ${error.message}\n`);
    process.exit(1);
  },
);
