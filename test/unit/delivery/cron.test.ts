import { describe, expect, it } from "vitest";
import { DeliveryError, nextFire, validateCron } from "../../../src/delivery/index.js";

const utc = { timezone: "UTC" };

describe("nextFire", () => {
  it("gives the first time strictly after the one given", () => {
    const after = new Date("2026-03-02T10:07:00Z"); // a Monday
    expect(nextFire("*/15 * * * *", after, utc).toISOString()).toBe("2026-03-02T10:15:00.000Z");
    expect(nextFire("0 3 * * *", after, utc).toISOString()).toBe("2026-03-03T03:00:00.000Z");
    expect(nextFire("0 9 * * MON-FRI", new Date("2026-03-06T09:00:00Z"), utc).toISOString()).toBe(
      "2026-03-09T09:00:00.000Z",
    );
    expect(nextFire("30 * * * * *", after, utc).toISOString()).toBe("2026-03-02T10:07:30.000Z");
    expect(nextFire("0 0 1 JAN *", after, utc).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("reads the fields in the time zone asked for", () => {
    const after = new Date("2026-07-01T00:00:00Z");
    expect(nextFire("0 9 * * *", after, { timezone: "Europe/Paris" }).toISOString()).toBe(
      "2026-07-01T07:00:00.000Z",
    );
  });

  it("throws a DeliveryError for an expression that never fires", () => {
    expect(() => nextFire("0 0 30 2 *", new Date(), utc)).toThrow(DeliveryError);
    expect(() => nextFire("0 0 30 2 *", new Date(), utc)).toThrow(/never fires/);
  });
});

describe("validateCron", () => {
  it("accepts 5 and 6 fields", () => {
    expect(validateCron("*/5 * * * *")).toBeUndefined();
    expect(validateCron("0 */10 * * * *")).toBeUndefined();
    expect(validateCron("0 9 * * MON-FRI")).toBeUndefined();
  });

  it("says what is wrong", () => {
    expect(validateCron("* * *")).toBe(
      "cron '* * *' has 3 fields; it needs 5 (minute hour day month weekday) or 6 (with seconds first)",
    );
    expect(validateCron("0 0 * * * * 2030")).toMatch(/has 7 fields/);
    expect(validateCron("")).toMatch(/has 0 fields/);
    expect(validateCron("61 * * * *")).toMatch(
      /^cron '61 \* \* \* \*' is not valid: .*minute.*61/i,
    );
    expect(validateCron("x * * * *")).toMatch(/is not valid: .*illegal characters/);
    expect(validateCron("0 0 31 2 *")).toMatch(/never fires/);
    expect(validateCron("0 0 * * *", { timezone: "Mars/Olympus" })).toMatch(
      /time zone 'Mars\/Olympus'/,
    );
  });
});
