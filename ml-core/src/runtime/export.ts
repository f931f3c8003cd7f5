/** `ml-core export --format onnx`: a model directory as a file another runtime can score. */
import { Command, Option } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { MODEL_FILE } from "../model/format";
import { modelIdentity } from "../model/identity";
import { parseModel } from "../model/load";

export const EXPORT_FORMATS = ["onnx"] as const;

export interface ExportSummary {
  readonly format: (typeof EXPORT_FORMATS)[number];
  readonly output: string;
  readonly bytes: number;
  readonly sourceModel: string;
  readonly irVersion: number;
  readonly opsets: Record<string, number>;
  readonly input: { name: string; features: number };
  readonly outputs: string[];
  readonly trees: number;
}

/**
 * Reads `<modelDir>/model.json` and writes its ONNX form to `output` (parent folders created). The
 * exporter (and protobufjs) is loaded here, not when the CLI starts: `train` and `serve` never pay
 * for it.
 */
export async function exportModel(modelDir: string, output: string): Promise<ExportSummary> {
  const { INPUT_NAME, ONNX_IR_VERSION, ONNX_ML_OPSET, ONNX_OPSET, onnxModelProto } = await import("../export/onnx.js");
  const { encodeModel } = await import("../export/onnx-proto.js");
  if (!fs.existsSync(modelDir) || !fs.statSync(modelDir).isDirectory()) throw new Error(`--model-dir ${modelDir}: no such directory`);
  const file = path.join(modelDir, MODEL_FILE);
  if (!fs.existsSync(file)) throw new Error(`--model-dir ${modelDir}: no ${MODEL_FILE} in it (is this a model directory?)`);
  const bytes = fs.readFileSync(file);
  const model = parseModel(bytes.toString("utf8"), file);
  const sourceModel = modelIdentity(bytes);
  const proto = onnxModelProto(model, { sourceModel });
  const onnx = encodeModel(proto);
  fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  // A temporary name then a rename: a reader never sees half a file.
  const tmp = `${output}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, onnx);
  fs.renameSync(tmp, output);
  return {
    format: "onnx",
    output,
    bytes: onnx.length,
    sourceModel,
    irVersion: ONNX_IR_VERSION,
    opsets: { "ai.onnx": ONNX_OPSET, "ai.onnx.ml": ONNX_ML_OPSET },
    input: { name: INPUT_NAME, features: model.features.length },
    outputs: proto.graph.output.map((o) => o.name),
    trees: model.trees.length,
  };
}

export function exportCommand(): Command {
  return new Command("export")
    .description("Write a model in another format: ONNX (one ai.onnx.ml TreeEnsemble; input X, float32 [N, features], category codes)")
    .addOption(new Option("--format <format>", "output format").choices(EXPORT_FORMATS).makeOptionMandatory())
    .requiredOption("--model-dir <dir>", "model directory (holding model.json)")
    .requiredOption("--output <file>", "file to write (e.g. model.onnx)")
    .option("--json", "print what was written as JSON")
    .action(async (opts: { modelDir: string; output: string; json?: boolean }) => {
      const s = await exportModel(opts.modelDir, opts.output);
      process.stdout.write(
        opts.json === true
          ? JSON.stringify(s, null, 2) + "\n"
          : `wrote ${s.output} (${s.bytes.toLocaleString("en-US")} bytes, ONNX IR ${s.irVersion}, ai.onnx.ml opset ${s.opsets["ai.onnx.ml"]}): ` +
              `${s.trees} trees; input ${s.input.name} float32 [N, ${s.input.features}]; outputs ${s.outputs.join(", ")}\n`,
      );
    });
}
