import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { PackerConfig } from "../images/packer-config.js";
import type { ImageBackends } from "../images/image-backends.js";
import { amiIDsByRegion } from "../images/machine-readable.js";
import { interruptOrphanedPacker, locatePacker, runPacker } from "../images/packer-driver.js";
import { declaredVariables, materializeTemplate, parseTemplateSource } from "../images/template-source.js";
import { adminVariables, bastionVariables, checkBuiltinVariables, ownVariables } from "../images/template-variables.js";
import { providerNames } from "../providers/provider.js";
import { providerFactories } from "../providers/provider-registry.js";
import type { ImageBuildRecord, ImageRecord } from "../store/image-records.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";
import type { ImageBuildLogs } from "./image-build-log.js";
import type { OutboundPolicy } from "./outbound-policy.js";

export interface ImageServiceDependencies {
  store: Store;
  config: PackerConfig;
  backends: ImageBackends;
  logs: ImageBuildLogs;
  policy: OutboundPolicy;
  /** Host dir of agent CLIs, which the docker template copies the chosen one from. */
  toolsDirectory: string;
  /** Uploaded into AMIs by builtin://default-ec2, so that sandboxes from them skip the on-boot download. */
  nodeBinary: string;
  agentdBundlePath: string;
  /** Environment of Packer (AWS credentials come from here, as for the SDK). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface BuildRequest {
  provider?: string | undefined;
  region?: string | undefined;
  instanceType?: string | undefined;
  template?: string | undefined;
  vars?: Record<string, string> | undefined;
}


/**
 * Image builds (docs/decisions/0030-image-builder.md): a queue with a concurrency limit, Packer per build in
 * its own directory and process group, images recorded from Packer's artifacts, and on start-up the builds a
 * previous process left running marked failed and their leftovers removed.
 */
export function createImageService(dependencies: ImageServiceDependencies) {
  const { store, config, logs } = dependencies;
  const running = new Map<string, AbortController>();
  const executions = new Set<Promise<void>>();
  const waiters = new Map<string, Array<(record: ImageBuildRecord) => void>>();
  const queue: string[] = [];
  let closed = false;

  async function getBuild(workspaceID: string, id: string): Promise<ImageBuildRecord> {
    const build = await store.imageBuilds.get(workspaceID, id);
    if (!build) throw new CiabError("not_found", `no image build ${id} in this workspace`);
    return build;
  }

  function pump(): void {
    while (!closed && running.size < config.max_concurrent_builds && queue.length > 0) {
      const id = queue.shift()!;
      const controller = new AbortController();
      running.set(id, controller);
      const execution = execute(id, controller.signal)
        .catch((error: unknown) => dependencies.logger.error({ err: error, buildID: id }, "image build crashed"))
        .finally(() => {
          running.delete(id);
          executions.delete(execution);
          pump();
        });
      executions.add(execution);
    }
  }

  async function finish(build: ImageBuildRecord, patch: Partial<ImageBuildRecord>): Promise<ImageBuildRecord> {
    const done = await store.imageBuilds.update(build.id, { ...patch, finishedAt: new Date().toISOString() });
    logs.end(build.id);
    for (const resolve of waiters.get(build.id) ?? []) resolve(done);
    waiters.delete(build.id);
    return done;
  }

  async function execute(id: string, signal: AbortSignal): Promise<void> {
    let build = (await store.imageBuilds.listAll(["queued"])).find((record) => record.id === id);
    if (!build) return;
    build = await store.imageBuilds.update(id, { state: "building", startedAt: new Date().toISOString() });
    const directory = path.join(config.work_dir, id);
    const timeout = setTimeout(() => running.get(id)?.abort(new CiabError("request_timeout", `the build ran past [packer] build_timeout_secs (${config.build_timeout_secs}s)`)), config.build_timeout_secs * 1000);
    try {
      const source = parseTemplateSource(build.template);
      await materializeTemplate(source, path.join(directory, "template"), { policy: dependencies.policy, allowLocal: true /* checked against the caller when the build was asked for */, maxBytes: config.max_template_bytes, signal });
      const variables = await variablesFor(build, path.join(directory, "template"));
      const binary = await locatePacker(config.binary_path, config.auto_install, dependencies.env);
      logs.append(id, `ciab: packer build of ${build.template} (${build.provider}${build.region ? `, ${build.region}` : ""})`);
      let lastStep: string | null = null;
      const result = await runPacker(binary, {
        directory: path.join(directory, "template"),
        variables,
        env: { ...dependencies.env, PACKER_NO_COLOR: "1", CHECKPOINT_DISABLE: "1", PACKER_CACHE_DIR: path.join(directory, "cache") },
        signal,
        cleanupGraceMs: config.cleanup_grace_secs * 1000,
        onLine: (line) => logs.append(id, line),
        onStart: (pid) => void writeFile(path.join(directory, "packer.pid"), String(pid)).catch(() => undefined),
        onProgress: (progress) => {
          const step = progress.steps.at(-1) ?? null;
          if (step === lastStep) return;
          lastStep = step;
          void store.imageBuilds.update(id, { step, percent: progress.percent ?? null }).catch(() => undefined);
        },
      });
      if (signal.aborted) {
        const reason = signal.reason instanceof CiabError ? signal.reason.message : "the build was cancelled";
        const packerSaid = result.progress.errors.join("\n").trim();
        build = await finish(build, { state: "failed", error: (packerSaid ? `${reason}; packer said:\n${packerSaid}` : reason).slice(0, 8000) });
        return;
      }
      if (result.exitCode !== 0) {
        const message = result.progress.errors.join("\n").trim() || `packer exited with ${result.exitCode}`;
        build = await finish(build, { state: "failed", error: message.slice(0, 8000) });
        return;
      }
      const images = imagesFrom(build, result.progress.artifacts);
      if (images.length === 0) {
        const packerSaid = result.progress.errors.join("\n").trim();
        build = await finish(build, { state: "failed", error: (packerSaid || "packer finished without an image artifact").slice(0, 8000) });
        return;
      }
      for (const image of images) await store.images.create(image);
      build = await finish(build, { state: "succeeded", imageID: images[0]!.id, percent: 100 });
    } catch (error) {
      const message = error instanceof CiabError ? error.message : `the build failed: ${(error as Error).message}`;
      logs.append(id, `ciab: ${message}`);
      build = await finish(build, { state: "failed", error: message });
    } finally {
      clearTimeout(timeout);
      await rm(directory, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** The caller's variables and ours, restricted to what the template declares (Packer refuses the rest). */
  async function variablesFor(build: ImageBuildRecord, directory: string): Promise<Record<string, string>> {
    const declared = await declaredVariables(directory);
    const unknown = Object.keys(build.vars).filter((name) => !declared.has(name));
    if (unknown.length > 0) throw new CiabError("invalid_request", `the template declares no variable ${unknown.join(", ")}`);
    const install = providerFactories[build.provider as keyof typeof providerFactories]?.().install;
    const ours: Record<string, string | undefined> = {
      provider: build.provider,
      region: build.region ?? undefined,
      instance_type: build.instanceType ?? undefined,
      subnet_id: config.build_subnet_id || undefined,
      build_id: build.id,
      tools_dir: dependencies.toolsDirectory,
      agent_package: install?.npmPackage,
      agent_binary: install?.binary,
      image_repository: "ciab/image",
      image_tag: build.id,
      endpoint: config.endpoint,
      node_binary: dependencies.nodeBinary,
      agentd_bundle: dependencies.agentdBundlePath,
      ...bastionVariables(config),
    };
    const variables: Record<string, string> = {};
    for (const [name, value] of Object.entries(ours)) if (value !== undefined && declared.has(name)) variables[name] = value;
    return { ...variables, ...build.vars };
  }

  function imagesFrom(build: ImageBuildRecord, artifacts: Array<{ builderID: string; id: string }>): ImageRecord[] {
    const base = { workspaceID: build.workspaceID, userID: build.userID, buildID: build.id, provider: build.provider, createdAt: new Date().toISOString() };
    const amis = artifacts.flatMap((artifact) => amiIDsByRegion(artifact.id));
    if (amis.length > 0) return amis.map(({ region, amiID }) => ({ ...base, id: newID("img"), runtime: "ec2", region, reference: amiID, name: null }));
    const tagged = artifacts.find((artifact) => artifact.builderID === "packer.post-processor.docker-tag");
    const imported = artifacts.find((artifact) => /^sha256:[0-9a-f]{64}$/.test(artifact.id));
    if (!tagged && !imported) return [];
    return [{ ...base, id: newID("img"), runtime: "docker", region: null, reference: tagged?.id ?? imported!.id, name: tagged?.id ?? null }];
  }

  return {
    getBuild: (principal: Principal, id: string) => getBuild(principal.workspaceID, id),

    async build(principal: Principal, request: BuildRequest, wait: boolean): Promise<ImageBuildRecord> {
      const provider = request.provider ?? "claude-code";
      if (!(providerNames as readonly string[]).includes(provider)) throw new CiabError("invalid_request", `unknown provider ${provider}; providers are ${providerNames.join(", ")}`);
      const templateText = request.template ?? config.template_source;
      const source = parseTemplateSource(templateText);
      // A template is code Packer runs on this host (shell-local, file(), its environment), and a file of the
      // host that is no template comes back quoted in Packer's errors: members build builtin:// templates only.
      if (source.kind !== "builtin" && !principal.installationAdmin) {
        throw new CiabError("forbidden", "templates from this host's files or from URLs are for installation admins; members build builtin:// templates");
      }
      const vars = request.vars ?? {};
      for (const name of Object.keys(vars)) {
        if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(name)) throw new CiabError("invalid_request", `bad variable name ${JSON.stringify(name.slice(0, 64))}`);
        if (ownVariables.has(name)) throw new CiabError("invalid_request", `variable ${name} is set by ciab; use the request's own field`);
      }
      checkBuiltinVariables(source, vars);
      const reserved = Object.keys(vars).filter((name) => adminVariables.has(name));
      if (reserved.length > 0 && !principal.installationAdmin) {
        throw new CiabError("forbidden", `variables ${reserved.join(", ")} (a build's base image, files of this host) are for installation admins`);
      }
      await locatePacker(config.binary_path, config.auto_install, dependencies.env);
      const runtime = source.kind === "builtin" && source.name === "default-docker" ? "docker" : /docker/i.test(templateText) ? "docker" : "ec2";
      const region = runtime === "ec2" ? (request.region ?? config.default_region) : null;
      const dedupKey = `${principal.workspaceID}|${templateText}|${provider}|${region ?? ""}`;
      const active = await store.imageBuilds.findActive(dedupKey);
      if (active) throw new CiabError("conflict", `build ${active.id} of the same image is ${active.state}`, { context: { build_id: active.id } });
      const record: ImageBuildRecord = {
        id: newID("bld"),
        workspaceID: principal.workspaceID,
        userID: principal.userID,
        state: "queued",
        runtime,
        provider,
        region,
        instanceType: runtime === "ec2" ? (request.instanceType ?? config.build_instance_type) : null,
        template: templateText,
        vars,
        dedupKey,
        step: null,
        percent: null,
        imageID: null,
        error: null,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
      };
      await store.imageBuilds.create(record);
      const done = wait ? new Promise<ImageBuildRecord>((resolve) => waiters.set(record.id, [...(waiters.get(record.id) ?? []), resolve])) : undefined;
      queue.push(record.id);
      pump();
      return done ? await done : record;
    },

    async cancel(principal: Principal, id: string): Promise<ImageBuildRecord> {
      const build = await getBuild(principal.workspaceID, id);
      if (build.state === "queued") {
        queue.splice(queue.indexOf(id), 1);
        return finish(build, { state: "failed", error: "the build was cancelled" });
      }
      if (build.state !== "building") throw new CiabError("invalid_state", `build ${id} is ${build.state}`);
      const done = new Promise<ImageBuildRecord>((resolve) => waiters.set(id, [...(waiters.get(id) ?? []), resolve]));
      running.get(id)?.abort();
      return done;
    },

    followLogs(principal: Principal, build: ImageBuildRecord, onLine: (line: string | null) => void) {
      if (build.workspaceID !== principal.workspaceID) throw new CiabError("not_found", `no image build ${build.id} in this workspace`);
      return logs.follow(build.id, build.state === "queued" || build.state === "building", onLine);
    },

    async listImages(principal: Principal, filter: { region?: string | undefined; provider?: string | undefined; runtime?: string | undefined; limit: number }) {
      return store.images.list(principal.workspaceID, filter);
    },

    async getImage(principal: Principal, id: string): Promise<ImageRecord> {
      const image = await store.images.get(principal.workspaceID, id);
      if (!image) throw new CiabError("not_found", `no image ${id} in this workspace`);
      return image;
    },

    /** For an AMI, DeregisterImage and DeleteSnapshot of its snapshots (running instances are untouched); for Docker, `docker rmi`. */
    async deleteImage(principal: Principal, id: string, signal: AbortSignal): Promise<void> {
      const image = await store.images.get(principal.workspaceID, id);
      if (!image) throw new CiabError("not_found", `no image ${id} in this workspace`);
      if (image.runtime === "ec2") await dependencies.backends.removeAMI(image.region ?? config.default_region, image.reference, signal);
      else await dependencies.backends.removeDockerImage(image.reference, signal);
      await store.images.delete(principal.workspaceID, id);
    },

    /** Builds a previous process left queued or building: failed, and what Packer left behind removed. */
    async recover(signal: AbortSignal): Promise<void> {
      for (const build of await store.imageBuilds.listAll(["queued", "building"])) {
        if (running.has(build.id) || queue.includes(build.id)) continue;
        const directory = path.join(config.work_dir, build.id);
        const pid = Number(await readFile(path.join(directory, "packer.pid"), "utf8").catch(() => ""));
        if (Number.isInteger(pid) && pid > 1 && (await interruptOrphanedPacker(pid, config.cleanup_grace_secs * 1000))) logs.append(build.id, `ciab: interrupted the packer (pid ${pid}) the stopped control plane left running`);
        const removed = await dependencies.backends.removeLeftovers(build.id, build.region ? [build.region] : [], signal).catch((error: unknown) => {
          dependencies.logger.warn({ err: error, buildID: build.id }, "could not remove the leftovers of an interrupted image build");
          return [] as string[];
        });
        logs.append(build.id, `ciab: the control plane stopped during the build; removed ${removed.length === 0 ? "nothing" : removed.join(", ")}`);
        await finish(build, { state: "failed", error: "the control plane stopped during the build" });
        await rm(directory, { recursive: true, force: true }).catch(() => undefined);
      }
    },

    /**
     * A built image of the workspace as the runtime boots it: `not_found` when the workspace has no such image
     * (another workspace's ids included, as everywhere), `image_not_found` when it is one for another runtime.
     */
    async resolve(workspaceID: string, runtime: string, id: string): Promise<string> {
      const image = await store.images.get(workspaceID, id);
      if (!image) throw new CiabError("not_found", `no image ${id} in this workspace`);
      if (image.runtime !== runtime) throw new CiabError("image_not_found", `image ${id} is for ${image.runtime}, not ${runtime}`);
      return image.reference;
    },

    /** Interrupts running builds and waits for Packer to clean up (at most `cleanup_grace_secs`, then its group is killed). */
    async close(): Promise<void> {
      closed = true;
      for (const controller of running.values()) controller.abort(new CiabError("internal", "the control plane stopped during the build"));
      await Promise.all(executions);
    },
  };
}

export type ImageService = ReturnType<typeof createImageService>;
