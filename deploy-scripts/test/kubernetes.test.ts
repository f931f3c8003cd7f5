// A Kubernetes stack through the release commands' pieces: the three-field pin, the rollback
// re-pin, and the smoke test over the Open Inference Protocol through a (fake) port forward.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { pinArtifact, pinPackage, pinPrevious, pinnedPackageArn } from "../src/config/stack-file";
import { prerequisiteError } from "../src/prerequisites";
import { sampleFromCsv } from "../src/smoke/sample";
import { smokeStack } from "../src/smoke/stack";
import type { Context } from "../src/context";
import type { StartPortForward } from "../src/system/port-forward";
import { portForwardArgs } from "../src/system/port-forward";

const ARN = (v: number) => `arn:aws:sagemaker:eu-west-1:111122223333:model-package/flight-delays-dev/${v}`;
const IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml-core@sha256:" + "b".repeat(64);
const ARTIFACT = (v: number) => `s3://store-artifacts/models/promoted/flight-delays-dev/${v}/model.tar.gz`;
const FILE = `config:
  aws:region: eu-west-1
  mlPlatform:model:
    packageArn: ${ARN(7)}
    artifactUri: ${ARTIFACT(7)}
    image: ${IMAGE}
    previousPackageArns:
      - ${ARN(6)}
  mlPlatform:serving:
    target: kubernetes
`;

describe("the pin of a Kubernetes stack", () => {
  it("promote and deploy write packageArn, artifactUri and image, and remember the old version", () => {
    const text = pinPackage(FILE, ARN(8), { artifactUri: ARTIFACT(8), image: IMAGE });
    expect(text).toContain(
      `    packageArn: ${ARN(8)}\n    artifactUri: ${ARTIFACT(8)}\n    image: ${IMAGE}\n    previousPackageArns:\n      - ${ARN(7)}\n      - ${ARN(6)}\n`,
    );
    expect(text).toContain("  mlPlatform:serving:\n    target: kubernetes\n");
  });

  it("rollback pins the previous version with that version's artifact and image", () => {
    const previous = pinPrevious(FILE);
    expect(pinnedPackageArn(previous)).toBe(ARN(6));
    const text = pinArtifact(previous, { artifactUri: ARTIFACT(6), image: IMAGE });
    expect(text).toContain(`    packageArn: ${ARN(6)}\n    artifactUri: ${ARTIFACT(6)}\n    image: ${IMAGE}\n  mlPlatform:serving:`);
    expect(text).not.toContain(ARTIFACT(7));
  });
});

// --- smoke over OIP through a port forward ------------------------------------------------------

const SAMPLE = sampleFromCsv("tenure,plan\n12,basic\n3,premium\n", { maxRows: 5 });
const RIGHT = "model-sha256=" + "1".repeat(64);
const WRONG = "model-sha256=" + "2".repeat(64);
const settings = { modelName: "flight-delays", serving: { target: "kubernetes", namespace: "models", cluster: { context: "ml-dev" } } } as never;

/** The far end of the forward: an OIP server answering as ml-core does, with `identity` as model_version. */
function oipServer(identity: string, seen: string[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader("content-type", "application/json");
      if (req.method === "GET" && req.url === "/v2/models/model") {
        res.end(
          JSON.stringify({
            name: "model",
            inputs: [
              { name: "tenure", datatype: "FP64", shape: [-1] },
              { name: "plan", datatype: "BYTES", shape: [-1] },
            ],
          }),
        );
        return;
      }
      const inputs = (JSON.parse(body) as { inputs: Array<{ name: string; datatype: string; data: unknown[] }> }).inputs;
      seen.push(JSON.stringify(inputs.map((i) => [i.name, i.datatype, i.data])));
      const n = inputs[0]!.data.length;
      res.end(
        JSON.stringify({
          model_name: "model",
          model_version: identity,
          outputs: [
            { name: "label", datatype: "BYTES", shape: [n], data: Array(n).fill("0") },
            { name: "probabilities", datatype: "FP64", shape: [n, 2], data: Array(n).fill([0.7, 0.3]).flat() },
          ],
        }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function fakeContext(portForward: StartPortForward): { ctx: Context; steps: string[] } {
  const steps: string[] = [];
  const out = { step: (t: string) => steps.push(t), info: () => {}, warn: () => {}, passthrough: () => {} };
  return { ctx: { out, portForward } as unknown as Context, steps };
}

async function forwardTo(identity: string, seen: string[], targets: unknown[]): Promise<StartPortForward> {
  const server = await oipServer(identity, seen);
  servers.push(server);
  let closed = 0;
  return async (target) => {
    targets.push(target);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: async () => void closed++ };
  };
}

describe("the smoke test of a Kubernetes stack", () => {
  it("reaches the Service through a port forward and passes when the pods serve the registered model", async () => {
    const seen: string[] = [];
    const targets: unknown[] = [];
    const { ctx } = fakeContext(await forwardTo(RIGHT, seen, targets));
    const result = await smokeStack(ctx, "dev-k8s", {} as never, SAMPLE, 5_000, RIGHT, settings);
    expect(result.problems).toEqual([]);
    expect(targets).toEqual([{ namespace: "models", service: "flight-delays", port: 8080, context: "ml-dev" }]);
    expect(portForwardArgs(targets[0] as never)).toEqual([
      "port-forward",
      "svc/flight-delays",
      ":8080",
      "--namespace",
      "models",
      "--address",
      "127.0.0.1",
      "--context",
      "ml-dev",
    ]);
    // Feature tensors typed as the model's metadata lists them: numbers FP64, categories BYTES.
    expect(seen).toContain(
      JSON.stringify([
        ["tenure", "FP64", [12, 3]],
        ["plan", "BYTES", ["basic", "premium"]],
      ]),
    );
    expect(seen).toContain("POST /v2/models/model/infer");
  });

  it("fails naming both identities when the pods serve another model", async () => {
    const { ctx } = fakeContext(await forwardTo(WRONG, [], []));
    const result = await smokeStack(ctx, "dev-k8s", {} as never, SAMPLE, 5_000, RIGHT, settings);
    expect(result.problems.length).toBeGreaterThan(0);
    for (const p of result.problems) expect(p).toContain(`answered by model ${WRONG}, expected model ${RIGHT}`);
  });

  it("a missing kubectl is one clear line", async () => {
    const enoent = Object.assign(new Error("spawn kubectl ENOENT"), { code: "ENOENT" });
    const { ctx } = fakeContext(() => Promise.reject(enoent));
    const err = await smokeStack(ctx, "dev-k8s", {} as never, SAMPLE, 5_000, RIGHT, settings).catch((e: unknown) => e);
    expect(prerequisiteError(err, "smoke")?.message).toBe(
      "kubectl is missing (no `kubectl` on PATH): ml-deploy smoke reaches a Kubernetes stack's Service through `kubectl port-forward` for the smoke test; install it (https://kubernetes.io/docs/tasks/tools/), check `kubectl config get-contexts` lists the stack's cluster context, and re-run",
    );
  });

  it("reports a port forward that cannot start as a failed check", async () => {
    const { ctx } = fakeContext(() => Promise.reject(new Error('error: services "flight-delays" not found')));
    const result = await smokeStack(ctx, "dev-k8s", {} as never, SAMPLE, 5_000, RIGHT, settings);
    expect(result.problems).toEqual(['cannot reach svc/flight-delays in namespace models of stack "dev-k8s": error: services "flight-delays" not found']);
  });
});
