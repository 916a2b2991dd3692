import type { CommandContext } from "../../context.js";

export interface ServerOptions {
  port?: number;
  host?: string;
  config?: string;
}

/**
 * `ciab server`: runs the control plane in the foreground until SIGINT or SIGTERM, then closes it.
 * A second signal while closing exits at once.
 */
export async function run(context: CommandContext, _args: string[], options: ServerOptions): Promise<number> {
  // The server and its dependencies load only for this command, never for client commands.
  const { startServer } = await import("@ciab/server");
  const server = await startServer({
    port: options.port,
    host: options.host,
    dataDirectory: context.globals.dataDir ?? nonEmpty(process.env.CIAB_DATA_DIR),
    configPath: options.config,
  });
  context.print({ url: server.url }, (value) => `listening on ${value.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  const force = (): never => process.exit(signal === "SIGINT" ? 130 : 143);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  await server.close();
  return 0;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}
