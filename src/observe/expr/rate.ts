import type { Sample } from "../series.js";

/**
 * `increase` and `rate` over one series' samples in a window, as Prometheus computes them:
 * a drop in value is a counter reset (the counter restarted from zero), so the value before
 * the drop is added back; the change seen between the first and last sample is then
 * extrapolated towards the window's edges — fully when a sample lies within 1.1 average
 * intervals of the edge, by half an interval otherwise, and never to before the counter
 * would have been zero — the zero cap applied after the half-interval rule, as Prometheus does
 * since 2.51 (prometheus#13725; older releases such as Debian's 2.42 capped first and so
 * extrapolate further when a series starts inside the window). Fewer than two samples give
 * no result.
 */
export function extrapolatedIncrease(
  samples: readonly Sample[],
  windowStart: number,
  windowEnd: number,
): number | undefined {
  return extrapolate(samples, windowStart, windowEnd, false);
}

export function extrapolatedRate(
  samples: readonly Sample[],
  windowStart: number,
  windowEnd: number,
): number | undefined {
  return extrapolate(samples, windowStart, windowEnd, true);
}

function extrapolate(
  samples: readonly Sample[],
  windowStart: number,
  windowEnd: number,
  perSecond: boolean,
): number | undefined {
  if (samples.length < 2) return undefined;
  const first = samples[0] as Sample;
  const last = samples[samples.length - 1] as Sample;
  let delta = last.value - first.value;
  for (let i = 1; i < samples.length; i++) {
    const previous = (samples[i - 1] as Sample).value;
    if ((samples[i] as Sample).value < previous) delta += previous;
  }
  const sampled = (last.at - first.at) / 1000;
  if (sampled <= 0) return undefined;
  const averageGap = sampled / (samples.length - 1);
  const threshold = averageGap * 1.1;
  let toStart = (first.at - windowStart) / 1000;
  let toEnd = (windowEnd - last.at) / 1000;
  if (toStart >= threshold) toStart = averageGap / 2;
  if (delta > 0 && first.value >= 0) {
    // A counter cannot have been below zero: don't extrapolate past the point it was 0.
    const toZero = sampled * (first.value / delta);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = averageGap / 2;
  // Same order of operations as Prometheus, so results agree to the last bit.
  let factor = (sampled + toStart + toEnd) / sampled;
  if (perSecond) factor /= (windowEnd - windowStart) / 1000;
  return delta * factor;
}
