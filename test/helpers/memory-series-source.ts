import type {
  Labels,
  Sample,
  Series,
  SeriesSelector,
  SeriesSource,
} from "../../src/observe/series.js";
import { matchesAll } from "../../src/observe/series.js";

/**
 * A small SeriesSource that keeps series in memory, for evaluating expressions in tests
 * without the metrics store. Samples are appended in time order, as the store records them.
 */
export class MemorySeriesSource implements SeriesSource {
  private readonly series = new Map<string, { name: string; labels: Labels; samples: Sample[] }>();

  add(
    name: string,
    labels: Labels,
    samples: ReadonlyArray<readonly [at: number, value: number]>,
  ): this {
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { name, labels, samples: [] };
      this.series.set(key, entry);
    }
    for (const [at, value] of samples) {
      const last = entry.samples[entry.samples.length - 1];
      if (last !== undefined && last.at >= at)
        throw new Error(`samples for ${key} out of order at ${at}`);
      entry.samples.push({ at, value });
    }
    return this;
  }

  select(selector: SeriesSelector, from: number, to: number): readonly Series[] {
    const out: Series[] = [];
    for (const s of this.series.values()) {
      if (s.name !== selector.name || !matchesAll(s.labels, selector.matchers)) continue;
      const samples = s.samples.filter((p) => p.at >= from && p.at <= to);
      if (samples.length > 0) out.push({ name: s.name, labels: s.labels, samples });
    }
    return out;
  }
}

/** Samples every `stepMs` from `startMs`, one per value. */
export function every(
  stepMs: number,
  values: readonly number[],
  startMs = 0,
): Array<readonly [number, number]> {
  return values.map((v, i) => [startMs + i * stepMs, v] as const);
}
