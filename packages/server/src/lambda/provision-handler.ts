import path from "node:path";
import { z } from "zod";
import { CiabError, type ErrorBody } from "@ciab/protocol";
import { createAuthService } from "../services/auth-service.js";
import { createStore } from "../store/create-store.js";
import { loadLambdaConfig } from "./lambda-control-plane.js";

/**
 * What an installation admin asks of the provisioning Lambda (invoked by name, through the OIDC invoke role):
 * `provision` readies the store (the table, when `[store]` may create it) and makes the first workspace, the
 * installation admin and its token, answered once and never stored in clear; `status` says whether that
 * has happened.
 */
const provisionRequestSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("provision") }),
  z.strictObject({ action: z.literal("status") }),
]);

export type ProvisionResult =
  | { provisioned: true; workspace_id: string; user_id: string; token: string }
  | { provisioned: boolean; installation_id: string | undefined }
  | ErrorBody;

export interface ProvisionHandlerOptions {
  env: NodeJS.ProcessEnv;
}

/** Each invocation opens the store, does one thing and closes it: provisioning is rare, and must not linger. */
export function createProvisionHandler(options: ProvisionHandlerOptions) {
  return async (event: unknown): Promise<ProvisionResult> => {
    const parsed = provisionRequestSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `send {"action":"provision"} or {"action":"status"} (${issue?.path.join(".") || "the event"}: ${issue?.message})`;
      return new CiabError("invalid_request", message).toBody();
    }
    try {
      const config = loadLambdaConfig(options.env);
      const store = await createStore(config.store, path.resolve(config.server.data_dir), options.env);
      await store.migrate();
      try {
        if (parsed.data.action === "status") {
          return { provisioned: await store.users.exists(), installation_id: await store.meta.get("installation_id") };
        }
        const first = await createAuthService(store).createFirstAdmin();
        if (!first) return new CiabError("already_exists", "this installation is provisioned already: its admin issues further tokens through the API").toBody();
        return { provisioned: true, workspace_id: first.user.workspaceID, user_id: first.user.id, token: first.token };
      } finally {
        await store.close();
      }
    } catch (error) {
      if (error instanceof CiabError) return error.toBody();
      return new CiabError("internal", "provisioning failed", { cause: error }).toBody();
    }
  };
}

/** The Lambda entry point, configured by CIAB_* variables. */
export const handler = createProvisionHandler({ env: process.env });
