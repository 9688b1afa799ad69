import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Debian's PostgreSQL server for tests: its binaries, and a data folder made by initdb as
 * the `postgres` user (the server refuses to run as root). The folder lives outside any
 * app's folder: app folders are snapshotted per revision, a data folder must be one.
 */
export interface PostgresCluster {
  /** /usr/lib/postgresql/<major>/bin */
  readonly bin: string;
  /** The data folder, owned by postgres. */
  readonly data: string;
  /** Where the server puts its Unix socket (its lock file per port included). */
  readonly sockets: string;
  /** Removes both folders; the server must be stopped first. */
  remove(): void;
}

const POSTGRES_LIBS = "/usr/lib/postgresql";

/** The newest installed major version's bin folder; fails saying what to install. */
export function postgresBin(): string {
  const majors = existsSync(POSTGRES_LIBS)
    ? readdirSync(POSTGRES_LIBS)
        .filter((name) => existsSync(join(POSTGRES_LIBS, name, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const [major] = majors;
  if (major === undefined) {
    throw new Error(
      `PostgreSQL is not installed (no ${POSTGRES_LIBS}/<version>/bin/postgres): ` +
        "run `apt-get install postgresql` (Debian's package; its service need not run)",
    );
  }
  return join(POSTGRES_LIBS, major, "bin");
}

/** A fresh cluster: initdb with trust authentication, superuser `postgres`. */
export function initCluster(): PostgresCluster {
  const bin = postgresBin();
  const data = ownedByPostgres("baton-pgdata-");
  const sockets = ownedByPostgres("baton-pgsock-");
  const [setpriv = "setpriv", ...flags] = AS_POSTGRES;
  execFileSync(
    setpriv,
    [...flags, join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust"],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    },
  );
  return {
    bin,
    data,
    sockets,
    remove() {
      rmSync(data, { recursive: true, force: true });
      rmSync(sockets, { recursive: true, force: true });
    },
  };
}

/** How initdb runs as postgres here; the server itself runs with the app's `user: postgres`. */
const AS_POSTGRES: readonly string[] = [
  "setpriv",
  "--reuid=postgres",
  "--regid=postgres",
  "--init-groups",
];

function ownedByPostgres(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  chownSync(dir, uid, gid);
  return dir;
}
