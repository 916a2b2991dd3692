import type { HttpClient } from "./http.js";
import { parseServerSentEvents } from "./sse.js";

export type ImageBuildState = "queued" | "building" | "succeeded" | "failed";

/** An image build (`bld_…`), as `GET /api/v1/images/builds/{id}` answers it. */
export interface ImageBuild {
  id: string;
  state: ImageBuildState;
  runtime: "docker" | "ec2";
  provider: string;
  region: string | null;
  instance_type: string | null;
  template: string;
  vars: Record<string, string>;
  /** The step Packer is on, and its last percentage where it gives one. */
  step: string | null;
  percent: number | null;
  image_id: string | null;
  /** Packer's own message when the build failed. */
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A built image (`img_…`): an AMI for ec2, a Docker image for docker; sandboxes boot it by id. */
export interface Image {
  id: string;
  build_id: string;
  runtime: "docker" | "ec2";
  provider: string;
  region: string | null;
  reference: string;
  name: string | null;
  created_at: string;
}

export interface ImageBuildRequest {
  provider?: string;
  region?: string;
  instanceType?: string;
  /** `builtin://default-ec2`, `builtin://default-docker`, a path, an http(s) URL, `git::<url>//<path>?ref=<ref>`. */
  template?: string;
  vars?: Record<string, string>;
  /** Answer when the build ends instead of when it is queued. */
  wait?: boolean;
}

const finalStates: ReadonlySet<ImageBuildState> = new Set(["succeeded", "failed"]);

/** `ciab.images`: image builds with Packer and the images they made. */
export class Images {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  build(request: ImageBuildRequest = {}, options: { signal?: AbortSignal } = {}): Promise<ImageBuild> {
    const { instanceType, ...rest } = request;
    return this.#http.json("POST", "/api/v1/images/build", { json: { ...rest, ...(instanceType !== undefined && { instance_type: instanceType }) }, signal: options.signal });
  }

  getBuild(id: string, options: { signal?: AbortSignal } = {}): Promise<ImageBuild> {
    return this.#http.json("GET", `/api/v1/images/builds/${encodeURIComponent(id)}`, options);
  }

  cancelBuild(id: string, options: { signal?: AbortSignal } = {}): Promise<ImageBuild> {
    return this.#http.json("POST", `/api/v1/images/builds/${encodeURIComponent(id)}/cancel`, options);
  }

  /** Packer's log lines, live while the build runs; returns the build as it ended. */
  async *logs(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<string, ImageBuild | undefined, undefined> {
    const response = await this.#http.send("GET", `/api/v1/images/builds/${encodeURIComponent(id)}/logs`, { signal: options.signal, accept: "text/event-stream" });
    if (!response.body) return undefined;
    for await (const message of parseServerSentEvents(response.body)) {
      if (message.event === "log.line") yield (JSON.parse(message.data) as { line: string }).line;
      if (message.event === "build.end") return JSON.parse(message.data) as ImageBuild;
    }
    return undefined;
  }

  /** Polls until the build is `succeeded` or `failed`, calling `onProgress` with each state seen. */
  async waitForBuild(id: string, options: { signal?: AbortSignal; intervalMs?: number; onProgress?: (build: ImageBuild) => void } = {}): Promise<ImageBuild> {
    for (;;) {
      const build = await this.getBuild(id, options);
      options.onProgress?.(build);
      if (finalStates.has(build.state)) return build;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
      options.signal?.throwIfAborted();
    }
  }

  list(options: { region?: string; provider?: string; runtime?: "docker" | "ec2"; limit?: number; signal?: AbortSignal } = {}): Promise<{ images: Image[] }> {
    return this.#http.json("GET", "/api/v1/images", {
      query: { region: options.region, provider: options.provider, runtime: options.runtime, limit: options.limit },
      signal: options.signal,
    });
  }

  get(id: string, options: { signal?: AbortSignal } = {}): Promise<Image> {
    return this.#http.json("GET", `/api/v1/images/${encodeURIComponent(id)}`, options);
  }

  /** Deregisters the AMI and deletes its snapshots, or removes the Docker image; running sandboxes are untouched. */
  async delete(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#http.json("DELETE", `/api/v1/images/${encodeURIComponent(id)}`, options);
  }
}
