// A snapshot's per-object facts are computed by ml-core's CSV digest: the pipeline's Snapshot step
// (`ml-core snapshot`, in the image) and `ml-deploy data snapshot` must record the same rows and
// header hash for the same bytes, so there is one implementation.
export { CsvDigest, digestStream, type ObjectFacts } from "@ml-platform/ml-core";
