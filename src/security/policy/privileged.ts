/**
 * Settings that hand an app's replicas the host — the Docker socket, system folders, paths
 * out of the project, root, SYS_ADMIN-like capabilities — are refused unless the app says
 * `allowPrivileged: true`, policy or not: one line copied from a blog post should not give a
 * web app root on the machine without anyone having said so.
 */
import type { Fields, Report } from "../../definition/checks.js";
import { formatPath, type Path } from "../../definition/phrases.js";
import { isPrivilegedCapability, isRootUser, mountDanger } from "./dangers.js";

export function checkPrivileged(app: Fields, path: Path, projectDir: string, report: Report): void {
  if (app.allowPrivileged === true) return;
  const hint = `if ${formatPath(path)} must have it, add \`allowPrivileged: true\` to it; otherwise remove the setting`;
  const expected = "no privileged setting without `allowPrivileged: true`";
  if (Array.isArray(app.volumes)) {
    for (const [index, volume] of app.volumes.entries()) {
      if (typeof volume !== "string") continue;
      const danger = mountDanger(volume, projectDir);
      if (danger === undefined) continue;
      const at = [...path, "volumes", index];
      report(
        "spec.privileged",
        at,
        "value",
        `${formatPath(at)} ${volume.split(":")[0]} ${danger}`,
        hint,
        {
          expected,
          found: volume,
        },
      );
    }
  }
  if (typeof app.user === "string" && isRootUser(app.user)) {
    const at = [...path, "user"];
    report(
      "spec.privileged",
      at,
      "value",
      `${formatPath(at)} is ${app.user}: replicas would run as root`,
      hint,
      {
        expected,
        found: app.user,
      },
    );
  }
  if (Array.isArray(app.capabilities)) {
    for (const [index, cap] of app.capabilities.entries()) {
      if (typeof cap !== "string" || !isPrivilegedCapability(cap)) continue;
      const at = [...path, "capabilities", index];
      report(
        "spec.privileged",
        at,
        "value",
        `${formatPath(at)} ${cap} lifts the container's isolation from the host`,
        hint,
        { expected, found: cap },
      );
    }
  }
}
