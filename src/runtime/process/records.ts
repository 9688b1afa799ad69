import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The process driver's own record of each replica it started, one JSON file per replica,
 * so that a restarted controller finds its replicas again without any other source.
 */
export interface ReplicaFileRecord {
  readonly id: string;
  readonly app: string;
  readonly revision: string;
  readonly port: number;
  /** The replica's process group leader; 0 while its start is under way. */
  readonly pid: number;
  /** The leader's start time as the kernel reports it: tells a reused pid apart. */
  readonly startTicks: number;
  readonly startedAt: number;
  readonly logFile: string;
  readonly maxLogBytes: number;
  readonly maxLogFiles: number;
  /** Output older than this goes (absent in records of older versions: the default). */
  readonly maxLogAgeMs?: number;
}

export class ReplicaRecords {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  fifoPath(id: string): string {
    return join(this.dir, `${id}.alive`);
  }

  write(record: ReplicaFileRecord): void {
    const file = join(this.dir, `${record.id}.json`);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  remove(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
    rmSync(this.fifoPath(id), { force: true });
  }

  all(): ReplicaFileRecord[] {
    const records: ReplicaFileRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      try {
        records.push(JSON.parse(readFileSync(join(this.dir, name), "utf8")) as ReplicaFileRecord);
      } catch {
        // A record cut short by a crash mid-write never replaced a good one (tmp + rename).
      }
    }
    return records;
  }
}
