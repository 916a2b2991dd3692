import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createProvisionHandler } from "../../packages/server/src/lambda/provision-handler.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * The provisioning Lambda makes the installation's workspace, admin and token in three writes. One that dies
 * between them (the table throttled it past its retries, the invocation timed out) must not leave an
 * installation nobody can ever enter: the next invocation finishes the job, and still only one admin token is
 * ever handed out by provisioning.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let proxy: Server;
let temp: ReturnType<typeof makeTempDirectory>;
/** Which DynamoDB call the loopback proxy in front of moto cuts off, by a piece of its body; none when undefined. */
let cutting: string | undefined;

beforeAll(async () => {
  moto = await startMoto();
  temp = makeTempDirectory("ciab-provision-");
  const target = new URL(moto.endpoint);
  proxy = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      if (cutting !== undefined && body.includes(cutting)) {
        incoming.socket.destroy();
        return;
      }
      const forwarded = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      forwarded.once("error", () => incoming.socket.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await moto?.stop();
  temp?.remove();
});

function provisioning() {
  return createProvisionHandler({
    env: {
      CIAB_SERVER_DATA_DIR: temp.path,
      CIAB_SERVER_LOG_LEVEL: "silent",
      CIAB_DATA_KEY: randomBytes(32).toString("base64"),
      CIAB_RUNTIME_ENABLED: "ec2",
      CIAB_STORE_DRIVER: "dynamodb",
      CIAB_STORE_TABLE: `ciab-${randomUUID()}`,
      CIAB_STORE_REGION: "us-east-1",
      CIAB_STORE_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      CIAB_STORE_CREATE_TABLE: "true",
    },
  });
}

test.each([
  ["after the workspace, before the admin", '"itemType":{"S":"user"}'],
  ["after the admin, before its token", '"itemType":{"S":"token-hash"}'],
])("a provisioning that died %s is finished by the next one, and only once", async (_, write) => {
  const provision = provisioning();
  expect(await provision({ action: "status" })).toMatchObject({ provisioned: false });
  cutting = write;
  expect(await provision({ action: "provision" })).toMatchObject({ error: { code: "store_unavailable" } });
  cutting = undefined;

  const resumed = await provision({ action: "provision" });
  expect(resumed, JSON.stringify(resumed)).toMatchObject({ provisioned: true, token: expect.stringMatching(/^ciab_/) });
  expect(await provision({ action: "provision" })).toMatchObject({ error: { code: "already_exists" } });
  expect(await provision({ action: "status" })).toMatchObject({ provisioned: true });
}, 60_000);
