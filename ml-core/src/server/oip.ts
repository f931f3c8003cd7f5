/**
 * The Open Inference Protocol's REST routes (KServe V2), as app.ts serves them beside SageMaker's:
 * which path is which route, the model's name, and the server metadata. The request and response
 * bodies are codec/oip.ts. The routes, from the spec
 * (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/):
 *
 *   GET  /v2/health/live                                   liveness: 200 while the process serves
 *   GET  /v2/health/ready                                  readiness: 200, or 400 while draining
 *   GET  /v2                                               server metadata
 *   GET  /v2/models/{name}[/versions/{version}]            model metadata
 *   GET  /v2/models/{name}[/versions/{version}]/ready      model readiness
 *   POST /v2/models/{name}[/versions/{version}]/infer      inference
 *
 * A health answer is its status: "200 indicates true and a 4xx status code indicates false", with
 * an empty body.
 */
import { HttpError } from "../codec/errors";
import { ML_CORE_VERSION } from "../train/session";

/** The model's name in the routes when none is configured (KServe's and MLServer's examples use it too). */
export const DEFAULT_MODEL_NAME = "model";

/** Letters, digits, `.`, `_`, `-`; at most 253 characters (a Kubernetes object name's limit). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** Why `name` cannot be the model's name in the routes, or undefined when it can. */
export function modelNameProblem(name: string): string | undefined {
  return MODEL_NAME.test(name) ? undefined : `${JSON.stringify(name)} must be 1-253 letters, digits, ".", "_" or "-", starting with a letter or digit`;
}

/** `$metadata_server_response`: no protocol extension is implemented. */
export const SERVER_METADATA = { name: "ml-core", version: ML_CORE_VERSION, extensions: [] as string[] } as const;

export type OipRoute =
  | { readonly kind: "live" | "ready" | "server" }
  | { readonly kind: "model" | "modelReady" | "infer"; readonly name: string; readonly version: string | undefined };

export const ROUTE_LIST =
  "GET /v2/health/live, GET /v2/health/ready, GET /v2, GET /v2/models/{name}, GET /v2/models/{name}/ready, POST /v2/models/{name}/infer";

/**
 * The route a path under /v2 names, or undefined for none. Name and version are percent-decoded;
 * a malformed escape is a 400.
 */
export function matchOipRoute(path: string): OipRoute | undefined {
  const parts = path.split("/");
  // parts[0] is the empty string before the leading slash; parts[1] is "v2".
  if (parts.length === 2) return { kind: "server" };
  if (parts[2] === "health" && parts.length === 4) {
    if (parts[3] === "live") return { kind: "live" };
    if (parts[3] === "ready") return { kind: "ready" };
    return undefined;
  }
  if (parts[2] !== "models" || parts.length < 4 || parts[3] === "") return undefined;
  const name = decode(parts[3]!);
  let rest = parts.slice(4);
  let version: string | undefined;
  if (rest[0] === "versions") {
    if (rest.length < 2 || rest[1] === "") return undefined;
    version = decode(rest[1]!);
    rest = rest.slice(2);
  }
  if (rest.length === 0) return { kind: "model", name, version };
  if (rest.length === 1 && rest[0] === "ready") return { kind: "modelReady", name, version };
  if (rest.length === 1 && rest[0] === "infer") return { kind: "infer", name, version };
  return undefined;
}

/** Whether a request path is a health probe (logged at debug level, as /ping is). */
export function isOipProbe(url: string): boolean {
  return url === "/v2/health/live" || url === "/v2/health/ready" || (url.startsWith("/v2/models/") && url.endsWith("/ready"));
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-escape in path segment ${JSON.stringify(segment)}`);
  }
}
