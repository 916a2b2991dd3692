import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { pinGitRemote, repoLocation } from "./git-remote.js";
import { createOutboundPolicy, pinnedLookup, type HostLookup } from "./outbound-policy.js";

/** A resolver with fixed answers: the policy's logic, apart from the system's DNS. */
const answers: Record<string, string[]> = {
  "public.example": ["93.184.215.14"],
  "inside.example": ["10.0.0.5"],
  "split.example": ["93.184.215.14", "127.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "v6.example": ["2606:4700::1"],
  "mapped.example": ["::ffff:127.0.0.1"],
};
const lookup: HostLookup = async (host) => {
  const found = answers[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

const strict = createOutboundPolicy({ allowPrivateNetwork: false, allow: [] }, lookup);

describe("createOutboundPolicy", () => {
  test("public names and addresses resolve to the address to connect to", async () => {
    expect(await strict.resolve("public.example")).toEqual({ host: "public.example", address: "93.184.215.14", family: 4 });
    expect(await strict.resolve("[2606:4700::1]")).toMatchObject({ address: "2606:4700::1", family: 6 });
    expect(await strict.resolve("PUBLIC.example.")).toMatchObject({ address: "93.184.215.14" });
  });

  test.each(["127.0.0.1", "[::1]", "169.254.169.254", "[fd00:ec2::254]", "[::ffff:127.0.0.1]", "10.0.0.1", "100.64.0.1", "[fe80::1]", "inside.example", "split.example", "metadata.example", "mapped.example", "0.0.0.0"])(
    "%s is refused with the one outbound error",
    async (host) => {
      await expect(strict.resolve(host)).rejects.toMatchObject({ code: "forbidden", context: { policy: "outbound" } });
      expect(await strict.isRefused(host)).toBe(true);
    },
  );

  test("a name that does not resolve is not a refusal", async () => {
    await expect(strict.resolve("nowhere.example")).rejects.toMatchObject({ code: "invalid_request" });
    expect(await strict.isRefused("nowhere.example")).toBe(false);
  });

  test("allow_private_network opens private ranges but never loopback or metadata", async () => {
    const open = createOutboundPolicy({ allowPrivateNetwork: true, allow: [] }, lookup);
    expect(await open.resolve("inside.example")).toMatchObject({ address: "10.0.0.5" });
    expect(await open.resolve("[fd12::1]")).toMatchObject({ address: "fd12::1" });
    for (const host of ["127.0.0.1", "169.254.169.254", "[fd00:ec2::254]", "metadata.example", "split.example"]) {
      expect(await open.isRefused(host), host).toBe(true);
    }
  });

  test("outbound_allow names hosts and ranges explicitly", async () => {
    const listed = createOutboundPolicy({ allowPrivateNetwork: false, allow: ["inside.example", "127.0.0.0/8", "fd00:ec2::254"] }, lookup);
    expect(await listed.resolve("inside.example")).toMatchObject({ address: "10.0.0.5" });
    expect(await listed.resolve("127.0.0.9")).toMatchObject({ address: "127.0.0.9" });
    expect(await listed.resolve("[fd00:ec2::254]")).toMatchObject({ address: "fd00:ec2::254" });
    expect(await listed.isRefused("10.0.0.6")).toBe(true);
    expect(await listed.isRefused("169.254.169.254")).toBe(true);
  });
});

describe("pinGitRemote keeps git on the checked address", () => {
  test("http(s): curl's resolve list, redirects off, the URL unchanged", async () => {
    expect(await pinGitRemote("https://u:p@Public.Example/org/repo.git", strict)).toEqual({
      url: "https://u:p@public.example/org/repo.git",
      config: ["-c", "http.followRedirects=false", "-c", "http.curloptResolve=public.example:443:93.184.215.14"],
      sshOptions: [],
    });
    expect((await pinGitRemote("http://v6.example:8080/r", strict))?.config).toContain("http.curloptResolve=v6.example:8080:[2606:4700::1]");
  });

  test("ssh, git and scp-style remotes get the address in the URL and keep the host key name", async () => {
    expect(await pinGitRemote("ssh://git@public.example:2222/org/repo.git", strict)).toEqual({
      url: "ssh://git@93.184.215.14:2222/org/repo.git",
      config: [],
      sshOptions: ["-o", "HostKeyAlias=public.example"],
    });
    expect((await pinGitRemote("git://v6.example/repo", strict))?.url).toBe("git://[2606:4700::1]/repo");
    expect(await pinGitRemote("git@public.example:org/repo.git", strict)).toMatchObject({ url: "git@93.184.215.14:org/repo.git", sshOptions: ["-o", "HostKeyAlias=public.example"] });
  });

  test("local paths are not remotes; refused remotes throw before git runs", async () => {
    expect(await pinGitRemote("/srv/repo", strict)).toBeUndefined();
    expect(await pinGitRemote("file:///srv/repo", strict)).toBeUndefined();
    for (const url of ["http://127.0.0.1:9/r.git", "https://[::ffff:7f00:1]/r", "ssh://git@mapped.example/r", "git@169.254.169.254:r", "http://2130706433/r", "http://0x7f.1/r"]) {
      await expect(pinGitRemote(url, strict), url).rejects.toMatchObject({ code: "forbidden" });
    }
  });
});

test("[policy] outbound_allow takes a list or a comma-separated env value and refuses what is neither host nor CIDR", async () => {
  const { policySectionSchema } = await import("../config/config-schema.js");
  expect(policySectionSchema.parse({ outbound_allow: "git.corp.example, 10.0.0.0/8,,::1" }).outbound_allow).toEqual(["git.corp.example", "10.0.0.0/8", "::1"]);
  expect(policySectionSchema.parse({}).outbound_allow).toEqual([]);
  expect(policySectionSchema.parse({}).allow_private_network).toBe(false);
  for (const bad of ["10.0.0.0/33", "http://x", "a b", "::1/129", "10.0.0.0/8/1"]) {
    expect(() => policySectionSchema.parse({ outbound_allow: [bad] }), bad).toThrow();
  }
});

describe("repoLocation: a path, a remote we can check, or refused", () => {
  test.each([
    ["/srv/repo", { kind: "local" }],
    ["../repo", { kind: "local" }],
    ["file:///srv/repo", { kind: "local" }],
    ["dir/with:colon", { kind: "local" }],
    ["https://github.com/org/repo.git", { kind: "remote", host: "github.com" }],
    ["git@github.com:org/repo.git", { kind: "remote", host: "github.com" }],
    ["localhost:repo", { kind: "remote", host: "localhost" }],
    ["git@[::1]:repo", { kind: "remote", host: "::1" }],
    ["ssh://[fd00:ec2::254]:22/r", { kind: "remote", host: "fd00:ec2::254" }],
  ])("%s", (url, expected) => {
    expect(repoLocation(url)).toEqual(expected);
  });

  test.each(["git+ssh://127.0.0.1/r", "ssh+git://127.0.0.1/r", "https::http://127.0.0.1/r", "ext::sh -c id", "fd::3", "ftp://127.0.0.1/r", "bad host:path", "a%b:repo"])(
    "%s is refused",
    (url) => {
      expect(() => repoLocation(url)).toThrow(expect.objectContaining({ code: "invalid_request" }));
    },
  );
});

test("pinnedLookup sends node's http to the checked address, whatever the name would resolve to now", async () => {
  const server = http.createServer((request, response) => response.end(request.headers.host));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const target = { host: "pinned.invalid", address: "127.0.0.1", family: 4 as const };
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: "pinned.invalid", port, lookup: pinnedLookup(target), agent: false }, (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.once("end", () => resolve(text));
        })
        .once("error", reject);
    });
    expect(body).toBe(`pinned.invalid:${port}`);
  } finally {
    server.close();
  }
});
