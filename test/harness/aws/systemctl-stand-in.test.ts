import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { plainAMIImage } from "./ami-images.js";
import { docker } from "./docker-cli.js";

// The systemctl stand-in of the "AMI" images, in a container of the plain image with no cloud-init run:
// units as the ec2 runtime's user-data writes them (systemd's quoting and % escapes), restarts, stop, boot.
const container = `ciab-systemctl-test-${randomBytes(4).toString("hex")}`;
const run = async (script: string, input?: string) => (await docker(["exec", "-i", container, "sh", "-c", script], { ...(input !== undefined && { input }) })).stdout;

beforeAll(async () => {
  await docker(["run", "--detach", "--name", container, "--init", "--network", "none", "--tmpfs", "/run:exec,mode=755", plainAMIImage]);
  await run("useradd --create-home tester");
});

afterAll(async () => {
  await docker(["rm", "--force", container]);
});

const unit = [
  "[Unit]",
  "After=network-online.target",
  "[Service]",
  "User=tester",
  "RuntimeDirectory=demo",
  "WorkingDirectory=~",
  String.raw`Environment="QUOTED=say \"hi\" \\ 100%% done" PLAIN=one`,
  String.raw`Environment="MULTI=first\nsecond"`,
  // Writes what it sees, then fails the first time, so that Restart=on-failure has something to do.
  String.raw`ExecStart=/bin/sh -c 'env > /run/demo/env; id -un > /run/demo/user; pwd > /run/demo/cwd; echo x >> /home/tester/starts; [ $(wc -l < /home/tester/starts) -ge 2 ] || exit 3; exec sleep 600'`,
  "Restart=on-failure",
  "RestartSec=0.1",
  "[Install]",
  "WantedBy=multi-user.target",
].join("\n");

test("runs a unit as its user with systemd's quoting, restarts it on failure, and stops it", async () => {
  await run("cat > /etc/systemd/system/demo.service", unit);
  await run("systemctl daemon-reload && systemctl enable --now demo.service");
  await run("for i in $(seq 50); do [ $(wc -l < /home/tester/starts 2>/dev/null || echo 0) -ge 2 ] && [ -s /run/demo/env ] && break; sleep 0.1; done");
  expect(await run("systemctl is-active demo")).toBe("active\n");
  const environment = await run("cat /run/demo/env");
  expect(environment).toContain('QUOTED=say "hi" \\ 100% done\n');
  expect(environment).toContain("PLAIN=one\n");
  expect(environment).toContain("MULTI=first\nsecond\n");
  expect(await run("cat /run/demo/user /run/demo/cwd")).toBe("tester\n/home/tester\n");
  expect(await run("stat -c %U /run/demo")).toBe("tester\n");
  expect(await run("journalctl -u demo")).toContain("status=3");

  await run("systemctl stop demo");
  expect(await run("systemctl is-active demo || true")).toBe("inactive\n");
  expect(await run("test -e /run/demo && echo present || echo gone")).toBe("gone\n");
  expect(await run("pgrep -u tester sleep || echo none")).toBe("none\n");
});

test("`systemctl boot` starts the enabled units and `systemctl poweroff` stops them, as a machine's boot and shutdown do", async () => {
  await run("systemctl is-enabled demo");
  await run("systemctl boot");
  expect(await run("systemctl is-active demo")).toBe("active\n");
  await run("systemctl poweroff");
  expect(await run("systemctl is-active demo || true")).toBe("inactive\n");
  await run("systemctl boot");
  await run("systemctl disable --now demo");
  expect(await run("systemctl is-enabled demo || true")).toBe("disabled\n");
});
