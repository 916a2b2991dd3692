import { toolArgumentSchemas } from "@ciab/protocol";
import type { ToolDefinition } from "./tool-definition.js";

export const publishArtifactTool: ToolDefinition<"publish_artifact"> = {
  name: "publish_artifact",
  description: "Publish a file of the work dir to the artifact store: it outlives the session and gets a signed download_url.",
  schema: toolArgumentSchemas.publish_artifact,
  async run({ principal, sessionID, services, origin, signal }, args) {
    const record = await services.artifacts.publish(principal, { ...args, session_id: sessionID }, signal);
    return services.artifacts.view(record, principal, origin);
  },
  summary: (args) => ({ path: args.path, mime: args.mime ?? null }),
};
