import { describe, expect, it } from "vitest";
import {
  clockTime,
  currentRolloutId,
  describeFailure,
  describeRollout,
  formatElapsed,
  formatProgress,
  formatStep,
  localDateTime,
  outcomeWord,
  renderHistory,
  renderRolloutStatus,
  truncate,
} from "../../../src/cli/rollout-view.js";
import { history, REV_A, REV_B, REV_C, rollout, status, step, T0 } from "./fixtures.js";

describe("outcomeWord", () => {
  it("words every state as a person would say it", () => {
    expect(outcomeWord("rolled-out")).toBe("rolled out");
    expect(outcomeWord("rolled-back")).toBe("rolled back");
    expect(outcomeWord("failed")).toBe("failed");
    expect(outcomeWord("superseded")).toBe("superseded");
    expect(outcomeWord("progressing")).toBe("in progress");
    expect(outcomeWord("rolling-back")).toBe("rolling back");
  });
});

describe("times", () => {
  it("shows a step's local time to the millisecond", () => {
    expect(clockTime(T0)).toBe("14:03:22.125");
    expect(clockTime(new Date(2024, 0, 2, 3, 4, 5, 6).getTime())).toBe("03:04:05.006");
  });

  it("shows when a rollout started as a local date and time", () => {
    expect(localDateTime(T0)).toBe("2024-05-01 14:03:22");
  });

  it("keeps tenths of a second for short rollouts and drops them for long ones", () => {
    expect(formatElapsed(850)).toBe("850ms");
    expect(formatElapsed(8_249)).toBe("8.2s");
    expect(formatElapsed(42_400)).toBe("42s");
    expect(formatElapsed(95_000)).toBe("1m35s");
  });
});

describe("formatStep", () => {
  it("prints time, action, replica and detail with the details aligned", () => {
    expect(formatStep(step(3, 1, "started", "web-7", "revision 6f5e4d3c2b1a, port 4101"))).toBe(
      "14:03:23.125  started   web-7  revision 6f5e4d3c2b1a, port 4101",
    );
    expect(formatStep(step(3, 2, "unpooled", "web-2", "draining"))).toBe(
      "14:03:24.125  unpooled  web-2  draining",
    );
  });

  it("shows a step of no replica with a dash and no trailing space", () => {
    expect(formatStep(step(3, 9, "done", null))).toBe("14:03:31.125  done      -");
  });
});

describe("formatProgress", () => {
  it("counts updated replicas against the desired count, and old ones", () => {
    expect(formatProgress(status(rollout({ id: 3, state: "progressing" })))).toBe(
      "updated 2/4, old 2",
    );
  });

  it("says which revision comes back while rolling back", () => {
    const s = status(rollout({ id: 3, state: "rolling-back" }), [], { updated: 1, old: 3 });
    expect(formatProgress(s)).toBe(`rolling back to ${REV_A}: updated 1/4, old 3`);
  });

  it("says nothing when the controller has no counts", () => {
    expect(formatProgress(status(rollout({ id: 3 }), [], null))).toBeUndefined();
  });
});

describe("describeRollout and describeFailure", () => {
  it("tells the outcome, the revisions and how long it took", () => {
    expect(describeRollout(rollout({ id: 12 }))).toBe(
      `rollout 12 of web rolled out: ${REV_A} → ${REV_B}, took 8.2s`,
    );
  });

  it("says a first deploy came from nothing and an unfinished one took no time yet", () => {
    expect(
      describeRollout(
        rollout({ id: 1, fromRevision: null, state: "progressing", finishedAt: null }),
      ),
    ).toBe(`rollout 1 of web in progress: nothing → ${REV_B}`);
  });

  it("gives the reason and the failing replica's last output, indented", () => {
    const record = rollout({
      id: 12,
      state: "rolled-back",
      reason: "replica web-7 exited with code 1 before it was ready\nexit code 1 after 0.3s",
      lastOutput: ["Error: connect ECONNREFUSED 127.0.0.1:5432", "    at main (app.js:3:9)"],
    });
    expect(describeFailure(record)).toBe(
      [
        `rollout 12 of web rolled back (${REV_A} → ${REV_B}): replica web-7 exited with code 1 before it was ready`,
        "  exit code 1 after 0.3s",
        "  last output of the failing replica:",
        "    Error: connect ECONNREFUSED 127.0.0.1:5432",
        "        at main (app.js:3:9)",
      ].join("\n"),
    );
  });

  it("says when no reason was recorded", () => {
    expect(describeFailure(rollout({ id: 4, state: "superseded" }))).toBe(
      `rollout 4 of web superseded (${REV_A} → ${REV_B}): no reason was recorded`,
    );
  });
});

describe("truncate", () => {
  it("keeps the first line only, and shortens it with an ellipsis", () => {
    expect(truncate("short\nsecond line", 20)).toBe("short");
    expect(truncate("a reason that is long", 10)).toBe("a reason …");
    expect(truncate("exactly10!", 10)).toBe("exactly10!");
  });
});

describe("currentRolloutId", () => {
  it("marks the newest rollout that rolled out the serving revision", () => {
    const h = history(REV_B, [
      rollout({ id: 3, fromRevision: REV_B, toRevision: REV_C, state: "rolled-back" }),
      rollout({ id: 2, toRevision: REV_B }),
      rollout({ id: 1, fromRevision: null, toRevision: REV_A }),
    ]);
    expect(currentRolloutId(h)).toBe(2);
  });

  it("marks nothing when no listed rollout rolled out the serving revision", () => {
    expect(currentRolloutId(history(null, [rollout({ id: 1 })]))).toBeUndefined();
    expect(currentRolloutId(history(REV_C, [rollout({ id: 1, state: "failed" })]))).toBeUndefined();
  });
});

describe("renderHistory", () => {
  const h = history(REV_B, [
    rollout({
      id: 4,
      fromRevision: REV_B,
      toRevision: REV_C,
      state: "progressing",
      startedAt: T0 + 120_000,
      finishedAt: null,
    }),
    rollout({
      id: 3,
      fromRevision: REV_B,
      toRevision: REV_C,
      state: "rolled-back",
      reason: "replica web-7 exited with code 1 before it was ready\nmore",
      startedAt: T0 + 60_000,
      finishedAt: T0 + 64_000,
    }),
    rollout({ id: 2, trigger: "rollback", by: "bob@ci" }),
    rollout({ id: 1, fromRevision: null, toRevision: REV_A, finishedAt: T0 + 42_000 }),
  ]);

  it("lists rollouts newest first with the serving revision's row marked", () => {
    expect(renderHistory(h, { color: false })).toBe(
      [
        "  ROLLOUT  REVISION      FROM          TRIGGER   OUTCOME      WHEN                        BY          WHY",
        `  4        ${REV_C}  ${REV_B}  apply     in progress  2024-05-01 14:05:22         ann@laptop`,
        `  3        ${REV_C}  ${REV_B}  apply     rolled back  2024-05-01 14:04:22 (4.0s)  ann@laptop  replica web-7 exited with code 1 before it was ready`,
        `* 2        ${REV_B}  ${REV_A}  rollback  rolled out   2024-05-01 14:03:22 (8.2s)  bob@ci`,
        `  1        ${REV_A}  -             apply     rolled out   2024-05-01 14:03:22 (42s)   ann@laptop`,
      ].join("\n"),
    );
  });

  it("fits WHY into the terminal's width", () => {
    const lines = renderHistory(h, { color: false, width: 130 }).split("\n");
    expect(lines[2]).toBe(
      `  3        ${REV_C}  ${REV_B}  apply     rolled back  2024-05-01 14:04:22 (4.0s)  ann@laptop  replica web-7 exited with c…`,
    );
    expect(lines[2]).toHaveLength(130);
  });

  it("keeps WHY readable on a very narrow terminal rather than cutting it to nothing", () => {
    const lines = renderHistory(h, { color: false, width: 40 }).split("\n");
    expect(lines[2]?.endsWith("  replica web-7 exite…")).toBe(true);
  });

  it("colours the outcome on a terminal without breaking the alignment", () => {
    const lines = renderHistory(h, { color: true }).split("\n");
    expect(lines[3]).toBe(
      `* 2        ${REV_B}  ${REV_A}  rollback  \u001b[32mrolled out\u001b[0m   2024-05-01 14:03:22 (8.2s)  bob@ci`,
    );
  });

  it("says so when the app never rolled out", () => {
    expect(renderHistory(history(null, []), { color: false })).toBe("web has not rolled out yet");
  });
});

describe("renderRolloutStatus", () => {
  it("shows the outcome, the counts and the last ten steps of the rollout", () => {
    const steps = Array.from({ length: 12 }, (_, i) => step(5, i + 1, "ready", `web-${i + 1}`));
    const text = renderRolloutStatus(
      status(rollout({ id: 5, state: "progressing", finishedAt: null }), [
        step(4, 99, "done", null),
        ...steps,
      ]),
      false,
    );
    expect(text.split("\n")).toEqual([
      `rollout 5 of web in progress: ${REV_A} → ${REV_B} (apply by ann@laptop, started 2024-05-01 14:03:22)`,
      "updated 2/4, old 2",
      "",
      ...steps.slice(2).map(formatStep),
    ]);
  });

  it("shows why a rollout rolled back, with the failing replica's output", () => {
    const text = renderRolloutStatus(
      status(
        rollout({
          id: 6,
          state: "rolled-back",
          reason: "web-9 failed readiness",
          lastOutput: ["boom"],
        }),
        [],
        null,
      ),
      false,
    );
    expect(text).toBe(
      [
        `rollout 6 of web rolled back: ${REV_A} → ${REV_B}, took 8.2s (apply by ann@laptop, started 2024-05-01 14:03:22)`,
        "web-9 failed readiness",
        "  last output of the failing replica:",
        "    boom",
      ].join("\n"),
    );
  });

  it("says so when the app never rolled out", () => {
    expect(renderRolloutStatus(status(null), false)).toBe("web has not rolled out yet");
  });
});
