/**
 * BATON_TEST_FAIL_PASS=POINT[,POINT…]: every other pass over an app that reaches one of
 * these points of the apps reconciler's pass throws there, as a crash half-way through a
 * pass would. For tests of the rule that a pass which fails at any point leaves nothing the
 * next pass cannot converge from (test/integration/pass-failure.test.ts). Unset in real use.
 */
import type { PassPoint } from "../apps/apps-reconciler.js";
import { ControllerError } from "./errors.js";

const POINTS: readonly PassPoint[] = [
  "observed",
  "decided",
  "started",
  "pooled",
  "stopped",
  "tracked",
];

export function passFailuresFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ((point: PassPoint, app: string) => void) | undefined {
  const text = env.BATON_TEST_FAIL_PASS?.trim() ?? "";
  if (text === "") return undefined;
  const points = new Set<PassPoint>();
  for (const word of text.split(",").map((w) => w.trim())) {
    const point = POINTS.find((p) => p === word);
    if (point === undefined) {
      throw new ControllerError(
        "controller.invalid_fail_pass",
        `BATON_TEST_FAIL_PASS names ${JSON.stringify(word)}, which is no point of a pass`,
        `use one or more of ${POINTS.join(", ")}, separated by commas; unset it in real use`,
      );
    }
    points.add(point);
  }
  const reached = new Map<string, number>();
  return (point, app) => {
    if (!points.has(point)) return;
    const key = `${app}\0${point}`;
    const count = (reached.get(key) ?? 0) + 1;
    reached.set(key, count);
    if (count % 2 === 1) throw new Error(`test hook: the pass over ${app} failed at ${point}`);
  };
}
