import { describe, expect, test } from "vitest";
import type { Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { Principal } from "./auth-service.js";
import { authorizeSandbox, type SandboxLimits } from "./sandbox-policy.js";

// The gate reads only a runtime's name, capabilities and default image.
const docker = { name: "docker", defaultImage: "ciab/default:bookworm", capabilities: { images: true, resourceLimits: true, hostNetwork: true, loaderEnvironment: true } } as unknown as Runtime;
const runtimes = { defaultName: "docker", get: () => docker, all: () => [docker], close: async () => undefined } as RuntimeRegistry;
const member: Principal = { userID: "usr_1", workspaceID: "ws_1", role: "member", installationAdmin: false, tokenID: "tok_1" };

function gate(limits: SandboxLimits, image: string) {
  return () => authorizeSandbox({ runtimes, allowHostNetwork: false, limits }, member, { runtime: "docker", image });
}

describe("[policy] images and a workspace's own builds", () => {
  const listed = { runtimes: [], images: ["debian:bookworm-slim"] } satisfies SandboxLimits;

  test("a built image's id passes a list that does not name it: it resolves within the caller's workspace only", () => {
    expect(gate(listed, "img_01jabcdefghjkmnpqrstvwxyz0")().workspaceID).toBe("ws_1");
    expect(gate({ ...listed, workspaceImages: true }, "img_01jabcdefghjkmnpqrstvwxyz0")().request.image).toBe("img_01jabcdefghjkmnpqrstvwxyz0");
  });

  test("workspace_images = false leaves built images to the list", () => {
    expect(gate({ ...listed, workspaceImages: false }, "img_01jabcdefghjkmnpqrstvwxyz0")).toThrow(/\[policy\] images/);
    expect(gate({ ...listed, workspaceImages: false, images: ["img_01jabcdefghjkmnpqrstvwxyz0"] }, "img_01jabcdefghjkmnpqrstvwxyz0")).not.toThrow();
  });

  test("a raw reference (a built image's tag or another image) is still the list's to allow", () => {
    expect(gate(listed, "ciab/image:bld_01jabcdefghjkmnpqrstvwxyz0")).toThrow(/\[policy\] images/);
    expect(gate(listed, "debian:bookworm-slim")).not.toThrow();
  });
});
