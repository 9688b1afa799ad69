import type { Command } from "commander";
import { BatonError } from "../../api/index.js";
import type { BatonClient } from "../../client/client.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import type { MetricsJson } from "../metrics-math.js";
import { say } from "../output.js";
import { renderTop, TOP_QUERIES, type TopData } from "../top-view.js";

const REFRESH_MS = 1_000;

export function topCommand(program: Command): void {
  withCommonOptions(program.command("top"))
    .description("live view of apps, hosts and the controller from the sampled metrics")
    .option("--once", "print one frame and exit")
    .action(async (options: CommonOptions & { once?: boolean }) => {
      const client = runningClientFor(options);
      if (options.once) {
        say(renderTop(await readFrame(client), Date.now()));
        return;
      }
      await live(client);
    });
}

/** Every metric a frame needs, in parallel; one not recorded yet reads as no series. */
async function readFrame(client: BatonClient): Promise<TopData> {
  const entries = await Promise.all(
    Object.entries(TOP_QUERIES).map(async ([name, since]) => {
      try {
        const answer: MetricsJson = await client.metric({ name, since });
        return [name, answer] as const;
      } catch (error) {
        if (error instanceof BatonError && error.code === "metrics.unknown") {
          return [name, undefined] as const;
        }
        throw error;
      }
    }),
  );
  return new Map(entries);
}

/** Redraws every second until q, Ctrl-C or the controller stops answering. */
async function live(client: BatonClient): Promise<void> {
  const { stdin, stdout } = process;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onKey);
      process.off("SIGINT", onSigint);
      stdout.write("\n");
      if (error === undefined) resolve();
      else reject(error);
    };
    const onKey = (key: Buffer): void => {
      const text = key.toString("utf8");
      if (text === "q" || text === "Q" || text === "\u0003") finish();
    };
    const onSigint = (): void => finish();
    const draw = async (): Promise<void> => {
      try {
        const frame = renderTop(await readFrame(client), Date.now());
        if (done) return;
        // Home the cursor and clear the screen, then the frame.
        stdout.write(`\u001b[H\u001b[2J${frame}\n`);
        timer = setTimeout(() => void draw(), REFRESH_MS);
      } catch (error) {
        finish(error);
      }
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on("data", onKey);
    stdin.resume();
    process.on("SIGINT", onSigint);
    void draw();
  });
}
