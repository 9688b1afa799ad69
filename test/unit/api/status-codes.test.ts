import { describe, expect, it } from "vitest";
import { httpStatusOf } from "../../../src/api/index.js";

describe("the HTTP status of an error code", () => {
  // Every code the API answered before the table, with the status it answered then.
  it.each([
    ["api.unauthorized", 401],
    ["api.starting", 503],
    ["api.not_found", 404],
    ["api.too_large", 413],
    ["api.invalid_json", 400],
    ["api.invalid_body", 400],
    ["api.invalid_path", 400],
    ["api.invalid_replicas", 400],
    ["api.invalid_release", 400],
    ["api.invalid_revision", 400],
    ["spec.invalid", 422],
    ["controller.unknown_app", 404],
    ["controller.snapshot_failed", 409],
    ["state.environment_mismatch", 409],
    ["deploy.unknown_release", 409],
    ["deploy.not_built", 409],
    ["release.conflict", 409],
    ["release.not_built_here", 409],
    ["rollback.no_previous", 409],
    ["rollback.unknown_revision", 409],
    ["rollout.not_blocked", 409],
    ["rollout.pinned", 409],
    ["run.not_found", 404],
    ["run.not_waiting", 409],
    ["run.not_active", 409],
    ["silence.invalid", 400],
    ["silence.not_found", 404],
    ["delivery.pipeline-not-found", 404],
    ["delivery.branch-not-found", 404],
    ["delivery.pipeline-elsewhere", 409],
    ["delivery.remote-unreachable", 409],
    ["metrics.unknown", 404],
    ["metrics.invalid_match", 400],
    ["metrics.invalid_duration", 400],
    ["metrics.too_many_points", 422],
    ["query.missing_expr", 400],
    ["query.invalid_at", 400],
    ["expr.syntax", 400],
    ["expr.unknown_metric", 400],
    ["internal", 500],
  ])("%s is %i", (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });

  it("gives codes it does not name the status their kind says", () => {
    expect(httpStatusOf("spec.unknown_key")).toBe(422);
    expect(httpStatusOf("engine.cycle")).toBe(422);
    expect(httpStatusOf("logs.unknown_target")).toBe(404);
    expect(httpStatusOf("logs.invalid_filter")).toBe(400);
    expect(httpStatusOf("hosts.unknown_host")).toBe(404);
    expect(httpStatusOf("image.pull_failed")).toBe(409);
  });
});
