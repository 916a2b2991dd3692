import { describe, expect, it } from "vitest";
import { getProvider } from "../providers/provider-registry.js";
import type { Runtime } from "../runtimes/runtime.js";
import type { SessionRecord } from "../store/records.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import { headlessJob, jobFollower, maximumJobPromptBytes } from "./session-job.js";

const session = (changes: Partial<SessionRecord> = {}) => ({ prompt: "Create hello.txt", sandboxID: null, model: null, ...changes }) as SessionRecord;
const grant = (headlessJobs: boolean) => ({ runtime: { name: "fargate", capabilities: { headlessJobs } } as unknown as Runtime }) as SandboxGrant;

describe("headlessJob", () => {
  it("runs a headless pi session that makes its own fargate sandbox as the task's job", () => {
    expect(headlessJob(session(), getProvider("pi"), grant(true))).toEqual({
      prompt: "Create hello.txt",
      env: { JOB_PROVIDER: "ciab", JOB_MODEL: "claude-sonnet-4-5" },
    });
    expect(headlessJob(session({ model: "claude-opus-4" }), getProvider("pi"), grant(true))?.env.JOB_MODEL).toBe("claude-opus-4");
  });

  it("leaves interactive sessions, sandboxes made beforehand, other runtimes and agents, and long prompts agentd-started", () => {
    expect(headlessJob(session({ prompt: null }), getProvider("pi"), grant(true))).toBeUndefined();
    expect(headlessJob(session({ sandboxID: "sbx_made_before" }), getProvider("pi"), undefined)).toBeUndefined();
    expect(headlessJob(session(), getProvider("pi"), grant(false))).toBeUndefined();
    expect(headlessJob(session(), getProvider("claude-code"), grant(true))).toBeUndefined();
    expect(headlessJob(session({ prompt: "é".repeat(maximumJobPromptBytes / 2 + 1) }), getProvider("pi"), grant(true))).toBeUndefined();
  });
});

describe("jobFollower", () => {
  it("hands the job's env to the follower as one JSON value, the secret never on its command line", () => {
    const started = jobFollower({ CIAB_SESSION_TOKEN: "ciabgw_secret", HOME: "/tmp/home" });
    expect(started.command).toEqual(["node", "/opt/ciab/job-follow.mjs"]);
    expect(started.command.join(" ")).not.toContain("secret");
    expect(JSON.parse(started.env.CIAB_JOB_LAUNCH!)).toEqual({ CIAB_SESSION_TOKEN: "ciabgw_secret", HOME: "/tmp/home" });
  });
});
