import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { CiabError, publishArtifactSchema } from "@ciab/protocol";

/** What `ciab-artifact publish` sends: the session comes from the token, never from the body. */
export const sandboxPublishSchema = z.strictObject({
  path: publishArtifactSchema.shape.path,
  mime: publishArtifactSchema.shape.mime,
  description: publishArtifactSchema.shape.description,
});
export type SandboxPublishRequest = z.infer<typeof sandboxPublishSchema>;

/** Publishes for a session; answers what the command prints. */
export type GatewayArtifactPublisher = (sessionID: string, request: SandboxPublishRequest) => Promise<Record<string, unknown>>;

/** The body is written inside the sandbox: read at most this much of it. */
const maxBodyBytes = 64 * 1024;

/** `POST /ciab/artifacts` on the gateway socket: the in-sandbox publish (docs/decisions/0017-artifacts.md). */
export async function handleArtifactPublish(
  publish: GatewayArtifactPublisher,
  sessionID: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== "POST") throw new CiabError("method_not_allowed", "POST /ciab/artifacts");
  const body = await readBoundedJSON(request);
  const parsed = sandboxPublishSchema.safeParse(body);
  if (!parsed.success) {
    throw new CiabError("invalid_request", parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; "));
  }
  const answer = JSON.stringify(await publish(sessionID, parsed.data));
  response.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
  response.end(answer);
}

async function readBoundedJSON(request: IncomingMessage): Promise<unknown> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
    });
    // The rest of an oversized body is read and dropped, so the answer still reaches the command.
    request.once("end", () =>
      size > maxBodyBytes
        ? reject(new CiabError("payload_too_large", `the request body is over ${maxBodyBytes} bytes`))
        : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    request.once("error", reject);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new CiabError("invalid_json", "the request body is not valid JSON");
  }
}
