import { type LabelMatcher, type Labels, matchesAll } from "../series.js";
import type { Silence } from "./types.js";

/**
 * The silences in force. A silence only mutes notifications: the engine still moves the alert
 * through its states and records them, so history shows what happened while it was quiet.
 */
export class SilenceSet {
  private readonly byId = new Map<string, Silence>();

  add(silence: Silence): void {
    if (silence.matchers.length === 0) {
      throw new Error(
        `silence ${silence.id} has no matchers and would mute every alert; give at least one, e.g. alertname=crash-loop`,
      );
    }
    for (const m of silence.matchers) {
      if (m.op === "=~" || m.op === "!~") checkRegex(m);
    }
    this.byId.set(silence.id, silence);
  }

  /** Whether it existed. */
  remove(id: string): boolean {
    return this.byId.delete(id);
  }

  /** The silences in force at `now`, expired ones forgotten. */
  active(now: number): Silence[] {
    const out: Silence[] = [];
    for (const [id, s] of this.byId) {
      if (s.until <= now) this.byId.delete(id);
      else if ((s.startsAt ?? Number.NEGATIVE_INFINITY) <= now) out.push(s);
    }
    return out;
  }

  /** The first silence in force at `now` that mutes an alert with these labels. */
  muting(labels: Labels, now: number): Silence | undefined {
    return this.active(now).find((s) => matchesAll(labels, s.matchers));
  }
}

/**
 * One matcher as an operator types it (`app=api`, `alertname=~crash.*`, `env!=dev`,
 * `host!~db-.*`); the value may be double-quoted.
 */
export function parseMatcher(text: string): LabelMatcher {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (match === null) {
    throw new Error(
      `silence matcher ${JSON.stringify(text)} is not label=value, label!=value, label=~regex or label!~regex (e.g. app=api)`,
    );
  }
  const [, label, op, raw] = match as unknown as [string, string, LabelMatcher["op"], string];
  const value =
    raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  const matcher: LabelMatcher = { label, op, value };
  if (op === "=~" || op === "!~") checkRegex(matcher);
  return matcher;
}

function checkRegex(m: LabelMatcher): void {
  try {
    new RegExp(m.value);
  } catch (error) {
    throw new Error(
      `silence matcher ${m.label}${m.op}${m.value}: not a valid regular expression (${(error as Error).message})`,
    );
  }
}
