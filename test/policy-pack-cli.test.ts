// Loads the pack the way the Pulumi CLI does - `@pulumi/pulumi/cmd/run-policy-pack` in the pack's
// directory, TypeScript through ts-node, the version from its package.json - and talks to it over
// the analyzer gRPC protocol the engine uses. Proves the directory is a working pack, not only
// that its functions pass in-process.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, POLICY_PACK_NAME } from "../infra/policy-pack/policies";

const analyzerpb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const PACK_DIR = path.resolve(__dirname, "..", "infra", "policy-pack");
let pack: ChildProcess;
let client: any;

beforeAll(async () => {
  const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
  // The first argument is the engine's address; the pack serves without calling it.
  pack = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  pack.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.on("data", (d) => resolve(String(d).trim()));
    pack.on("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${stderr}`)));
  });
  client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

const call = <T>(method: string, request: unknown) =>
  new Promise<T>((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

describe("the pack as the Pulumi CLI runs it", () => {
  it("serves every policy, mandatory, under the pack's name and package version", async () => {
    const info = await call<any>("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe(POLICY_PACK_NAME);
    expect(info.getVersion()).toBe("0.1.0");
    const served = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
    expect(served).toEqual(policies.map((p) => [p.name, analyzerpb.EnforcementLevel.MANDATORY]));
  });

  it("reports a mandatory violation for a resource that breaks a rule, and none for one that keeps it", async () => {
    const analyze = async (props: Record<string, unknown>) => {
      const request = new analyzerpb.AnalyzeRequest();
      request.setType("aws:ecr/repository:Repository");
      request.setName("images");
      request.setUrn("urn:pulumi:prod::mlPlatform::aws:ecr/repository:Repository::images");
      request.setProperties(Struct.fromJavaScript(props));
      request.setOptions(new analyzerpb.AnalyzerResourceOptions());
      const response = await call<any>("analyze", request);
      return response.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage(), d.getEnforcementlevel()]);
    };
    const good = {
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:eu-west-1:1:key/k" }],
    };
    expect(await analyze(good)).toEqual([]);
    expect(await analyze({ ...good, imageTagMutability: "MUTABLE" })).toEqual([
      [
        "ecr-immutable-tags",
        expect.stringContaining('Repository "images": imageTagMutability is "MUTABLE"; set it to "IMMUTABLE"'),
        analyzerpb.EnforcementLevel.MANDATORY,
      ],
    ]);
  });
});
