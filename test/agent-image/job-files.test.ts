import { describe, expect, it } from "vitest";
import { jobExitLine, parseJobExit, parseLaunch } from "../../infra/agent-image/src/job-files.js";

/** What the entrypoint and the job follower read from each other (docs/decisions/0038). */
describe("the job's files", () => {
  it("reads back the exit line the entrypoint writes, and nothing else as one", () => {
    expect(parseJobExit(jobExitLine(0))).toBe(0);
    expect(parseJobExit(jobExitLine(143))).toBe(143);
    for (const line of ['{"type":"agent_end"}', '{"type":"ciab.job_exit","exit_code":-1}', '{"type":"ciab.job_exit","exit_code":256}', '{"type":"ciab.job_exit"', '  {"type":"ciab.job_exit","exit_code":0}']) {
      expect(parseJobExit(line)).toBeUndefined();
    }
  });

  it("takes only an object of string variables as the launch env", () => {
    expect(parseLaunch('{"env":{"HOME":"/tmp/h","CIAB_SESSION_TOKEN":"ciabgw_x"}}')).toEqual({ HOME: "/tmp/h", CIAB_SESSION_TOKEN: "ciabgw_x" });
    for (const text of ['{"env":[]}', '{"env":{"A":1}}', '{"env":{"A=B":"c"}}', '{}', '{"env":null}', 'null', '{"env":{"A":"b\\u0000c"}}']) expect(() => parseLaunch(text)).toThrow();
    expect(() => parseLaunch("not json")).toThrow();
  });
});
