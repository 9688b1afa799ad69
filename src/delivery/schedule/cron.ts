import { Cron } from "croner";
import { DeliveryError } from "../errors.js";

export interface CronOptions {
  /** An IANA zone (Europe/Paris); the controller's local time when absent. */
  readonly timezone?: string;
}

function parse(expr: string, options: CronOptions): Cron {
  const fields = expr
    .trim()
    .split(/\s+/)
    .filter((field) => field !== "");
  if (fields.length !== 5 && fields.length !== 6) {
    throw new DeliveryError(
      "cron-invalid",
      `cron '${expr}' has ${fields.length} field${fields.length === 1 ? "" : "s"}; it needs 5 (minute hour day month weekday) or 6 (with seconds first)`,
      "for example '0 3 * * *' (every day at 03:00) or '*/30 * * * * *' (every 30 s)",
    );
  }
  try {
    return new Cron(expr, {
      mode: "5-or-6-parts",
      paused: true,
      ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(
      /^CronPattern:\s*/,
      "",
    );
    throw new DeliveryError(
      "cron-invalid",
      `cron '${expr}' is not valid: ${reason}`,
      "fields are minute (0-59) hour (0-23) day (1-31) month (1-12 or JAN-DEC) weekday (0-7 or SUN-SAT), with an optional seconds field first",
    );
  }
}

/** The first time strictly after `after` the expression fires. Throws for one that never does. */
export function nextFire(cron: string, after: Date, options: CronOptions = {}): Date {
  const job = parse(cron, options);
  let next: Date | null;
  try {
    next = job.nextRun(after);
  } catch (error) {
    throw new DeliveryError(
      "cron-invalid",
      `cron '${cron}' cannot be computed${options.timezone === undefined ? "" : ` in time zone '${options.timezone}'`}: ${error instanceof Error ? error.message : String(error)}`,
      "use an IANA time zone name such as Europe/Paris",
    );
  } finally {
    job.stop();
  }
  if (next === null) {
    throw new DeliveryError(
      "cron-invalid",
      `cron '${cron}' never fires after ${after.toISOString()} (a day that no month has?)`,
      "check the day and month fields",
    );
  }
  return next;
}

/** Undefined for a valid expression that fires; otherwise what is wrong, in a sentence. */
export function validateCron(expr: string, options: CronOptions = {}): string | undefined {
  try {
    nextFire(expr, new Date(), options);
    return undefined;
  } catch (error) {
    if (error instanceof DeliveryError) return error.message;
    throw error;
  }
}
