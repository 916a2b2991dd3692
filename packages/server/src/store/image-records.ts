/** States of an image build: `queued → building → succeeded | failed`. */
export type ImageBuildState = "queued" | "building" | "succeeded" | "failed";

/** One run of Packer (`bld_…`), in a workspace. */
export interface ImageBuildRecord {
  id: string;
  workspaceID: string;
  userID: string;
  state: ImageBuildState;
  /** `docker` or `ec2`: which runtime the image is for (from the template's builder). */
  runtime: "docker" | "ec2";
  provider: string;
  region: string | null;
  instanceType: string | null;
  template: string;
  /** Variables given by the caller (never secrets: they are stored and shown). */
  vars: Record<string, string>;
  /** Builds of the same thing at once are refused: workspace, template, provider, region. */
  dedupKey: string;
  /** The step Packer is on, and its last percentage where it gives one. */
  step: string | null;
  percent: number | null;
  imageID: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type ImageBuildPatch = Partial<Pick<ImageBuildRecord, "state" | "step" | "percent" | "imageID" | "error" | "startedAt" | "finishedAt">>;

/** A built image (`img_…`): a Docker image for docker, an AMI in one region for ec2. */
export interface ImageRecord {
  id: string;
  workspaceID: string;
  userID: string;
  buildID: string;
  runtime: "docker" | "ec2";
  provider: string;
  region: string | null;
  /** The Docker image id (`sha256:…`) or the AMI id. */
  reference: string;
  /** A Docker tag (`ciab/agent:img_…`), or the AMI's name. */
  name: string | null;
  createdAt: string;
}
