import type { LogLine } from "../driver.js";

/**
 * Lines out of the Engine's multiplexed log stream (a container without a TTY): frames of
 * an 8-byte header — stream (1 stdout, 2 stderr), three zero bytes, the payload's size as
 * a big-endian uint32 — then the payload. Asked with `timestamps=1`, each line starts with
 * its RFC 3339 time and a space. A line may span frames, so each stream keeps its rest.
 */
export async function* logLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<LogLine> {
  let pending: Buffer = Buffer.alloc(0);
  const rest: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const stream = pending[0] === 2 ? "stderr" : "stdout";
      const text = rest[stream] + pending.subarray(8, 8 + size).toString("utf8");
      pending = pending.subarray(8 + size);
      const lines = text.split("\n");
      rest[stream] = lines.pop() ?? "";
      for (const line of lines) yield parseLine(stream, line);
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    if (rest[stream] !== "") yield parseLine(stream, rest[stream]);
  }
}

function parseLine(stream: "stdout" | "stderr", raw: string): LogLine {
  const space = raw.indexOf(" ");
  const at = space > 0 ? Date.parse(raw.slice(0, space)) : Number.NaN;
  return Number.isNaN(at)
    ? { stream, line: raw, at: Date.now() }
    : { stream, line: raw.slice(space + 1), at };
}
