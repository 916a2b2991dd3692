import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { envNameOf, loadConfig } from "./load-config.js";

describe("loadConfig", () => {
  test("defaults: SQLite, local runtime, data in .ciab", () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8420, data_dir: ".ciab" });
    expect(config.runtime.backend).toBe("local");
    expect(config.runtime.local.isolation).toBe("bwrap");
    expect(Object.isFrozen(config.runtime.docker)).toBe(true);
  });

  test("flag > env > config.toml > default", () => {
    const directory = makeTempDirectory();
    try {
      const file = path.join(directory.path, "config.toml");
      writeFileSync(file, '[server]\nport = 9000\nlog_level = "debug"\n[runtime.docker]\ndefault_image = "from:toml"\n');
      const env = { CIAB_SERVER_PORT: "9100", CIAB_RUNTIME_DOCKER_DEFAULT_IMAGE: "from:env" };
      expect(loadConfig({ configPath: file, env }).server.port).toBe(9100);
      expect(loadConfig({ configPath: file, env }).server.log_level).toBe("debug");
      expect(loadConfig({ configPath: file, env }).runtime.docker.default_image).toBe("from:env");
      expect(loadConfig({ configPath: file, env, flags: { "server.port": 9200 } }).server.port).toBe(9200);
    } finally {
      directory.remove();
    }
  });

  test("seed-style aliases", () => {
    const config = loadConfig({ env: { CIAB_DATA_DIR: "/srv/ciab", CIAB_RUNTIME: "docker", CIAB_RUNTIME_ENABLED: "local,docker" } });
    expect(config.server.data_dir).toBe("/srv/ciab");
    expect(config.runtime.backend).toBe("docker");
  });

  test("ec2: CIAB_RUNTIME=ec2 enables it; the seed's CIAB_EC2_* aliases and CIAB_RUNTIME_EC2_* keys", () => {
    const config = loadConfig({
      env: {
        CIAB_RUNTIME: "ec2",
        CIAB_EC2_AMI_ID: "ami-0123",
        CIAB_EC2_INSTANCE_TYPE: "m7i.large",
        CIAB_EC2_SUBNET_ID: "subnet-1",
        CIAB_EC2_SECURITY_GROUP_IDS: "sg-1, sg-2",
        CIAB_EC2_IAM_INSTANCE_PROFILE: "ciab-agent",
        CIAB_EC2_VOLUME_SIZE_GB: "64",
        CIAB_EC2_SPOT: "true",
        CIAB_EC2_ENDPOINT: "http://127.0.0.1:5000",
        CIAB_RUNTIME_EC2_TAGS: "team=infra,cost-center=42",
        CIAB_RUNTIME_EC2_BASTION_HOST: "127.0.0.1",
        CIAB_RUNTIME_EC2_BASTION_USER: "jump",
        CIAB_RUNTIME_EC2_BASTION_PRIVATE_KEY_PATH: "/keys/jump",
        CIAB_RUNTIME_EC2_STOP_ON_PAUSE: "false",
      },
    });
    expect(config.runtime.backend).toBe("ec2");
    expect(config.runtime.enabled).toEqual(["local", "docker", "ec2"]);
    expect(config.runtime.ec2).toMatchObject({
      default_ami: "ami-0123",
      instance_type: "m7i.large",
      subnet_id: "subnet-1",
      security_group_ids: ["sg-1", "sg-2"],
      iam_instance_profile: "ciab-agent",
      root_volume_size_gb: 64,
      spot: true,
      endpoint: "http://127.0.0.1:5000",
      tags: { team: "infra", "cost-center": "42" },
      bastion: { host: "127.0.0.1", port: 22, user: "jump", private_key_path: "/keys/jump" },
      stop_on_pause: false,
      channel: "ssh",
      ssh_user: "ubuntu",
    });
  });

  test.each([
    [{ CIAB_SERVER_PORT: "eighty" }, /server\.port \(CIAB_SERVER_PORT\)/],
    [{ CIAB_RUNTIME_LOCAL_ISOLATION: "weak" }, /runtime\.local\.isolation \(CIAB_RUNTIME_LOCAL_ISOLATION\).*"bwrap"\|"none"/],
    [{ CIAB_RUNTIME_DOCKER_NETWORK: "bridge" }, /runtime\.docker\.network/],
    [{ CIAB_RUNTIME_EC2_BASTION_HOST: "127.0.0.1", CIAB_RUNTIME_EC2_BASTION_USER: "u" }, /runtime\.ec2\.bastion.*private_key/],
  ])("an invalid value names the key, its variable and what is allowed: %o", (env, message) => {
    expect(() => loadConfig({ env })).toThrow(message);
  });

  test("unknown keys in config.toml are refused by name", () => {
    const directory = makeTempDirectory();
    try {
      const file = path.join(directory.path, "config.toml");
      writeFileSync(file, "[server]\nprot = 1\n");
      expect(() => loadConfig({ configPath: file, env: {} })).toThrow(/unknown config key server\.prot/);
      writeFileSync(file, "[server\n");
      expect(() => loadConfig({ configPath: file, env: {} })).toThrow(/cannot read/);
    } finally {
      directory.remove();
    }
  });

  test("env names follow the key path", () => {
    expect(envNameOf(["runtime", "docker", "default_image"])).toBe("CIAB_RUNTIME_DOCKER_DEFAULT_IMAGE");
  });
});
