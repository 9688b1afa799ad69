import { describe, expect, it } from "vitest";
import { containerStepEnv, hostStepEnv } from "../../../src/delivery/steps/step-env.js";

describe("a step's environment", () => {
  it("on the host: ours without Baton's settings, the agent or credentials; then caller's, then step's", () => {
    const env = hostStepEnv(
      {
        PATH: "/usr/bin",
        HOME: "/root",
        BATON_STATE: "/var/lib/baton",
        SSH_AUTH_SOCK: "/tmp/agent",
        GITHUB_TOKEN: "t",
        db_password: "p",
        AWS_SECRET_ACCESS_KEY: "k",
        LANG: "C.UTF-8",
      },
      { BATON_RUN: "7", BATON_COMMIT: "abc", LANG: "from-caller" },
      { LANG: "from-step", NPM_TOKEN: "given by the definition" },
    );
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/root",
      BATON_RUN: "7",
      BATON_COMMIT: "abc",
      LANG: "from-step",
      NPM_TOKEN: "given by the definition",
    });
  });

  it("in a container: nothing of ours, the image's own environment underneath", () => {
    expect(containerStepEnv({ BATON_RUN: "7" }, { CI: "true" })).toEqual({
      BATON_RUN: "7",
      CI: "true",
    });
  });
});
