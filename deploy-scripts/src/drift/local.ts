// Data capture on this machine: the local lifecycle's smoke requests are recorded as a SageMaker
// endpoint would record them, and measured against the baseline ml-core train wrote.
import * as fs from "node:fs";
import * as path from "node:path";
import { STATISTICS_FILE, type DriftReport } from "@ml-platform/ml-core";
import type { SmokeTransport } from "../smoke/requests";
import { captureHourPrefix, captureRecord } from "./capture";
import { fileCaptureStore, measureDrift, parseBaseline } from "./measure";

/** The variant folder local captures are filed under (an endpoint's is its production variant's name). */
export const LOCAL_VARIANT = "local";

/** A transport that also appends each request and its response to `<dir>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`. */
export function capturingTransport(inner: SmokeTransport, dir: string, endpoint: string, now: () => Date = () => new Date()): SmokeTransport {
  return {
    target: inner.target,
    async send(request) {
      const response = await inner.send(request);
      const time = now();
      const folder = path.join(dir, captureHourPrefix(endpoint, LOCAL_VARIANT, time));
      fs.mkdirSync(folder, { recursive: true });
      const record = captureRecord({ contentType: request.contentType, body: request.body }, response, time);
      fs.appendFileSync(path.join(folder, `${time.toISOString().slice(0, 13).replace(/[:T]/g, "-")}.jsonl`), JSON.stringify(record) + "\n");
      return response;
    },
  };
}

/** The captured requests under `captureDir` against the baseline in `modelDir`. */
export async function localDrift(modelDir: string, captureDir: string, minRows?: number): Promise<DriftReport> {
  const file = path.join(modelDir, STATISTICS_FILE);
  const baseline = parseBaseline(fs.readFileSync(file, "utf8"), file);
  return (await measureDrift(baseline, fileCaptureStore(captureDir), new Date(0), minRows)).report;
}
