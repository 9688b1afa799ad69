/**
 * How a controller in the foreground shows what happens: one line an event, its time, its
 * type and its message, red when something exited or failed.
 */
import type { EventRecord } from "../store/index.js";

/** Colours only on a terminal, and never when NO_COLOR says so. */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== "dumb";
}

export function eventLine(event: EventRecord, color: boolean): string {
  const time = new Date(event.at).toISOString().slice(11, 19);
  const failed =
    event.type.endsWith("exited") || event.type.includes("error") || event.type.includes("fail");
  const paint = (text: string, code: number) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return `${paint(time, 90)} ${paint(event.type.padEnd(18), failed ? 31 : 90)} ${event.message}`;
}
