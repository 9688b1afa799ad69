/**
 * What makes a host resource itself: two resources of one module with one identity on one
 * host would fight each other, so the definition may hold only one. Shared by the checks
 * (raw values) and the hosts reconciler (the state of what was applied).
 */
type Fields = Readonly<Record<string, unknown>>;

export function resourceIdentity(module: string, fields: Fields): string | undefined {
  const text = (key: string): string | undefined => {
    const value = fields[key];
    return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
  };
  switch (module) {
    case "file":
    case "directory":
    case "symlink":
      return text("path");
    case "lineinfile": {
      const path = text("path");
      return path === undefined ? undefined : `${path} ${text("regexp") ?? text("line") ?? ""}`;
    }
    case "package":
    case "user":
    case "group":
    case "service":
      return text("name");
    case "sysctl":
      return text("key");
    case "command": {
      const run = fields.run;
      return (
        text("name") ??
        (Array.isArray(run) ? run.join(" ") : typeof run === "string" ? run : undefined)
      );
    }
    default:
      return undefined;
  }
}
