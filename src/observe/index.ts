export * from "./metrics/index.js";
export {
  type LabelMatcher,
  type Labels,
  matchesAll,
  type Sample,
  type Series,
  type SeriesSelector,
  type SeriesSource,
} from "./series.js";
