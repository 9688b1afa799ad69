import { describe, expect, it } from "vitest";
import { BatonError } from "../../../src/api/index.js";
import { DeliveryError } from "../../../src/delivery/errors.js";
import { ExprError } from "../../../src/observe/expr/errors.js";

describe("BatonError", () => {
  it("serialises to the API's error body: code, message, hint and where, nothing undefined", () => {
    const error = new BatonError("spec.port_conflict", "apps.api.port 8080 is taken by web", {
      hint: "give one of them another port",
      file: "baton.yaml",
      line: 7,
      column: 11,
      field: "apps.api.port",
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: "spec.port_conflict",
      message: "apps.api.port 8080 is taken by web",
      hint: "give one of them another port",
      file: "baton.yaml",
      line: 7,
      column: 11,
      field: "apps.api.port",
    });
    expect(Object.keys(new BatonError("api.not_found", "no such endpoint").toJSON())).toEqual([
      "code",
      "message",
    ]);
  });

  it("exits 1 unless it says otherwise", () => {
    expect(new BatonError("x.y", "m").exitCode).toBe(1);
    expect(new BatonError("wait.timeout", "m", { exitCode: 3 }).exitCode).toBe(3);
  });

  it("keeps what its subclasses add to the body", () => {
    const expr = new ExprError("expr.syntax", "rate(up[5m]", {
      offset: 11,
      expected: '"]" or ")"',
      found: "the end",
      hint: "close the call",
    });
    expect(expr.toJSON()).toEqual({
      code: "expr.syntax",
      message: 'column 12: expected "]" or ")", found the end',
      hint: "close the call",
      line: 1,
      column: 12,
      expected: '"]" or ")"',
      found: "the end",
    });
    const delivery = new DeliveryError("branch-not-found", "no branch main", "push it first");
    expect(delivery.code).toBe("branch-not-found");
    expect(delivery.toJSON()).toEqual({
      code: "delivery.branch-not-found",
      message: "no branch main",
      hint: "push it first",
    });
  });
});
