import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { startMoto, type Moto as RunningMoto } from "../harness/aws/index.js";

const mib = 1024 * 1024;
const bucket = "ciab-artifacts";

/** The S3 store against moto_server on loopback: multipart uploads, presigned downloads, failures. */
describe("artifacts in S3 (moto)", () => {
  let moto: RunningMoto;
  let server: TestServer;
  let s3: S3Client;
  let sandboxID: string;

  beforeAll(async () => {
    // The AWS SDK's default credential chain reads these; moto accepts any.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_EC2_METADATA_DISABLED: "true" });
    moto = await startMoto();
    s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    server = await startTestServer({
      env: {
        CIAB_ARTIFACT_BACKEND: "s3",
        CIAB_ARTIFACTS_S3_BUCKET: bucket,
        CIAB_ARTIFACTS_S3_ENDPOINT: moto.endpoint,
        CIAB_ARTIFACTS_S3_PREFIX: "test/",
      },
    });
    sandboxID = (await server.api("POST", "/sandboxes", { runtime: "local" })).body.id;
    const filled = await server.api("POST", `/sandboxes/${sandboxID}/exec`, {
      command: ["sh", "-c", `echo small > small.txt && head -c ${20 * mib} /dev/urandom > parts.bin`],
    });
    expect(filled.body.exit_code).toBe(0);
  });
  afterAll(async () => {
    await server?.close();
    await moto?.stop();
  });

  test("a multipart upload, then a download redirected to a presigned URL", async () => {
    const expected = (await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sha256sum", "parts.bin"] })).body.stdout.split(" ")[0];
    const published = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "parts.bin" });
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    expect(published.body).toMatchObject({ size: 20 * mib, sha256: expected });
    const redirect = await fetch(published.body.download_url, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location")!;
    expect(location.startsWith(`${moto.endpoint}/${bucket}/test/`)).toBe(true);
    expect(location).toContain("X-Amz-Signature=");
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(bytes.length).toBe(20 * mib);
  });

  test("a snapshot goes to S3 and restores from it", async () => {
    const snapshot = await server.api("POST", `/sandboxes/${sandboxID}/snapshot`, { label: "s3" });
    expect(snapshot.status).toBe(201);
    const restored = await server.api("POST", "/sandboxes", { runtime: "local", restore: snapshot.body.id });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    const check = await server.api("POST", `/sandboxes/${restored.body.id}/exec`, { command: ["cat", "small.txt"] });
    expect(check.body.stdout).toBe("small\n");
    await server.api("DELETE", `/sandboxes/${restored.body.id}`);
    expect((await server.api("DELETE", `/snapshots/${snapshot.body.id}`)).status).toBe(200);
  });

  test("S3 going away mid-upload records nothing", async () => {
    const before = (await server.api("GET", "/artifacts")).body.artifacts.length;
    const filled = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", `head -c ${200 * mib} /dev/zero > slow.bin`] });
    expect(filled.body.exit_code).toBe(0);
    const publishing = server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "slow.bin" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await moto.stop();
    const answer = await publishing;
    expect([answer.status, answer.body.error?.code]).toEqual([503, "artifact_store_unavailable"]);
    expect((await server.api("GET", "/artifacts")).body.artifacts.length).toBe(before);
  });
});

