import { describe, expect, test } from "vitest";
import { loadConfig } from "../config/load-config.js";
import { packerSectionSchema } from "./packer-config.js";

describe("[packer]", () => {
  test("defaults, and every key from CIAB_PACKER_<KEY>", () => {
    expect(loadConfig({ env: {} }).packer).toMatchObject({ binary_path: "packer", auto_install: false, default_region: "us-east-1", build_instance_type: "t3.medium", build_timeout_secs: 1800, template_source: "builtin://default-ec2" });
    const config = loadConfig({
      env: {
        CIAB_PACKER_BINARY_PATH: "/opt/packer",
        CIAB_PACKER_AUTO_INSTALL: "true",
        CIAB_PACKER_WORK_DIR: "/var/tmp/p",
        CIAB_PACKER_DEFAULT_REGION: "eu-west-1",
        CIAB_PACKER_BUILD_INSTANCE_TYPE: "t3.large",
        CIAB_PACKER_BUILD_SUBNET_ID: "subnet-1",
        CIAB_PACKER_BUILD_TIMEOUT_SECS: "60",
        CIAB_PACKER_TEMPLATE_SOURCE: "builtin://default-docker",
        CIAB_PACKER_ENDPOINT: "http://127.0.0.1:5000",
        CIAB_PACKER_BASTION: "ops@127.0.0.1:2222",
        CIAB_PACKER_BASTION_PRIVATE_KEY_FILE: "/etc/ciab/bastion.key",
        CIAB_PACKER_CLEANUP_GRACE_SECS: "30",
        CIAB_PACKER_MAX_CONCURRENT_BUILDS: "4",
        CIAB_PACKER_MAX_TEMPLATE_BYTES: "65536",
        CIAB_PACKER_MAX_LOG_BYTES: "1048576",
      },
    }).packer;
    const expected = {
      binary_path: "/opt/packer",
      auto_install: true,
      work_dir: "/var/tmp/p",
      default_region: "eu-west-1",
      build_instance_type: "t3.large",
      build_subnet_id: "subnet-1",
      build_timeout_secs: 60,
      template_source: "builtin://default-docker",
      endpoint: "http://127.0.0.1:5000",
      bastion: "ops@127.0.0.1:2222",
      bastion_private_key_file: "/etc/ciab/bastion.key",
      cleanup_grace_secs: 30,
      max_concurrent_builds: 4,
      max_template_bytes: 65536,
      max_log_bytes: 1048576,
    };
    expect(config).toEqual(expected);
    // A key added to the section without its variable here fails this line.
    expect(Object.keys(packerSectionSchema.shape).sort()).toEqual(Object.keys(expected).sort());
  });

  test("a bad value names the key and its env variable", () => {
    expect(() => loadConfig({ env: { CIAB_PACKER_BUILD_TIMEOUT_SECS: "soon" } })).toThrow(/packer\.build_timeout_secs \(CIAB_PACKER_BUILD_TIMEOUT_SECS\)/);
    expect(() => loadConfig({ env: { CIAB_PACKER_DEFAULT_REGION: "mars" } })).toThrow(/CIAB_PACKER_DEFAULT_REGION/);
  });
});
