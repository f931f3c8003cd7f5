/**
 * An ml-core model as an ONNX model: one `ai.onnx.ml` TreeEnsemble node (tree-ensemble.ts) for the
 * raw scores, then ml-core's link (model/flat-predictor.ts `rawToOutputs`) in standard operators.
 *
 * Interface (also written into the file: metadata_props and doc strings; README, "ONNX export"):
 * - input `X`, float32 [N, features]: the features in model order. A numeric feature is its value;
 *   a categorical feature is its category's code, the index of its spelling in the feature's
 *   `categories` (metadata `ml_core.features`). Missing values and categories unseen at training
 *   are NaN. Codes rather than strings in the graph: one dense float tensor is what every runtime's
 *   tree ensemble reads, while string tensors and LabelEncoder are unsupported in several runtimes
 *   (and in onnxruntime-web's GPU backends); a caller maps spellings to codes with the table.
 * - classification: `probabilities`, float32 [N, classes] in `ml_core.classes` order, and
 *   `raw_score`, float32 [N, 1] (binary: the log-odds of the second class) or [N, classes]
 *   (multiclass: softmax inputs).
 * - regression: `prediction`, float32 [N, 1].
 */
import { outputCount, type ModelJson } from "../model/format";
import { ML_CORE_VERSION } from "../train/session";
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./onnx-proto";
import { treeEnsembleArrays } from "./tree-ensemble";

/**
 * IR version 10 and opsets 21 (ai.onnx) / 5 (ai.onnx.ml) are ONNX 1.16's, the first release with
 * TreeEnsemble 5; a runtime that reads that release's models reads these.
 */
export const ONNX_IR_VERSION = 10;
export const ONNX_OPSET = 21;
export const ONNX_ML_OPSET = 5;

export const INPUT_NAME = "X";
export const OUTPUT_PROBABILITIES = "probabilities";
export const OUTPUT_RAW_SCORE = "raw_score";
export const OUTPUT_PREDICTION = "prediction";

/** The metadata_props keys an export writes. */
export const METADATA = {
  objective: "ml_core.objective",
  classes: "ml_core.classes",
  features: "ml_core.features",
  categoricalInput: "ml_core.categorical_input",
  missingValues: "ml_core.missing_values",
  outputs: "ml_core.outputs",
  sourceModel: "ml_core.source_model",
} as const;

export interface OnnxExportOptions {
  /** Identity of the model file exported (`model-sha256=<hex>`), recorded in the metadata. */
  readonly sourceModel?: string;
}

/** The ONNX protobuf bytes of `model`. */
export function modelToOnnx(model: ModelJson, options: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(onnxModelProto(model, options));
}

export function onnxModelProto(model: ModelJson, options: OnnxExportOptions = {}): ModelProto {
  const nFeatures = model.features.length;
  const nOut = outputCount(model.objective, model.classes);
  const nodes: NodeProto[] = [treeEnsembleNode(model, nOut, "tree_sum")];
  const initializers: TensorProto[] = [floatTensor("baseline", [nOut], model.baseline)];
  nodes.push({
    opType: "Add",
    name: "add_baseline",
    input: ["tree_sum", "baseline"],
    output: [model.objective === "regression" ? OUTPUT_PREDICTION : OUTPUT_RAW_SCORE],
  });

  const outputs: ValueInfoProto[] = [];
  const classes = model.classes ?? [];
  switch (model.objective) {
    case "regression":
      outputs.push(floatValue(OUTPUT_PREDICTION, 1, `Predicted value of "${model.label}".`));
      break;
    case "binary":
      // ml-core's [1 − p, p] with p = sigmoid(raw): the probability of each class in `classes` order.
      initializers.push(floatTensor("one", [], [1]));
      nodes.push(
        { opType: "Sigmoid", name: "sigmoid", input: [OUTPUT_RAW_SCORE], output: ["p_second"] },
        { opType: "Sub", name: "one_minus_p", input: ["one", "p_second"], output: ["p_first"] },
        { opType: "Concat", name: "concat", input: ["p_first", "p_second"], output: [OUTPUT_PROBABILITIES], attribute: [intAttr("axis", 1)] },
      );
      outputs.push(
        floatValue(OUTPUT_PROBABILITIES, 2, `Probability of each class, in order: ${JSON.stringify(classes)}.`),
        floatValue(OUTPUT_RAW_SCORE, 1, `Log-odds of class ${JSON.stringify(classes[1])} (sigmoid of it is its probability).`),
      );
      break;
    case "multiclass":
      nodes.push({ opType: "Softmax", name: "softmax", input: [OUTPUT_RAW_SCORE], output: [OUTPUT_PROBABILITIES], attribute: [intAttr("axis", -1)] });
      outputs.push(
        floatValue(OUTPUT_PROBABILITIES, nOut, `Probability of each class, in order: ${JSON.stringify(classes)}.`),
        floatValue(OUTPUT_RAW_SCORE, nOut, "Raw score per class (softmax of them gives the probabilities)."),
      );
      break;
  }

  const inputDoc =
    `Features in this order: ${model.features.map((f) => `${f.name} (${f.kind})`).join(", ")}. ` +
    "A categorical feature takes its category code (index in its categories, metadata ml_core.features); NaN for a missing value or an unseen category.";
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [
      { domain: "", version: ONNX_OPSET },
      { domain: "ai.onnx.ml", version: ONNX_ML_OPSET },
    ],
    producerName: "ml-core",
    producerVersion: ML_CORE_VERSION,
    docString: `ml-core gradient-boosted trees (${model.objective}, ${model.trees.length} trees, label "${model.label}").`,
    graph: {
      name: "ml_core_gbdt",
      node: nodes,
      initializer: initializers,
      input: [floatValue(INPUT_NAME, nFeatures, inputDoc)],
      output: outputs,
    },
    metadataProps: metadataProps(model, outputs, options),
  };
}

function metadataProps(model: ModelJson, outputs: ValueInfoProto[], options: OnnxExportOptions): { key: string; value: string }[] {
  const props: [string, string][] = [
    [METADATA.objective, model.objective],
    [METADATA.features, JSON.stringify(model.features)],
    [METADATA.categoricalInput, "code: a categorical feature is given as the index of its category in ml_core.features[i].categories, as a float"],
    [METADATA.missingValues, "NaN: a missing value, or a category not in the feature's categories; each split sends it the way ml-core does"],
    [METADATA.outputs, JSON.stringify(outputs.map((o) => ({ name: o.name, doc: o.docString })))],
  ];
  if (model.classes !== null) props.push([METADATA.classes, JSON.stringify(model.classes)]);
  if (options.sourceModel !== undefined) props.push([METADATA.sourceModel, options.sourceModel]);
  return props.map(([key, value]) => ({ key, value }));
}

function treeEnsembleNode(model: ModelJson, nOut: number, output: string): NodeProto {
  const a = treeEnsembleArrays(model, nOut);
  const attribute: AttributeProto[] = [
    intAttr("n_targets", a.nTargets),
    intsAttr("tree_roots", a.treeRoots),
    intsAttr("nodes_featureids", a.featureIds),
    tensorAttr("nodes_modes", { dims: [a.modes.length], dataType: DataType.UINT8, rawData: Uint8Array.from(a.modes) }),
    tensorAttr("nodes_splits", floatTensor("", [a.splits.length], a.splits)),
    intsAttr("nodes_truenodeids", a.trueNodeIds),
    intsAttr("nodes_falsenodeids", a.falseNodeIds),
    intsAttr("nodes_trueleafs", a.trueLeafs),
    intsAttr("nodes_falseleafs", a.falseLeafs),
    intsAttr("nodes_missing_value_tracks_true", a.missingTracksTrue),
    intsAttr("leaf_targetids", a.leafTargetIds),
    tensorAttr("leaf_weights", floatTensor("", [a.leafWeights.length], a.leafWeights)),
    intAttr("aggregate_function", 1), // SUM
    intAttr("post_transform", 0), // NONE: the baseline is added first, then the link
  ];
  if (a.membershipValues.length > 0) attribute.push(tensorAttr("membership_values", floatTensor("", [a.membershipValues.length], a.membershipValues)));
  return { opType: "TreeEnsemble", domain: "ai.onnx.ml", name: "trees", input: [INPUT_NAME], output: [output], attribute };
}

function floatTensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  // raw_data is little-endian whatever the host's byte order.
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { ...(name !== "" ? { name } : {}), dims, dataType: DataType.FLOAT, rawData: bytes };
}

function floatValue(name: string, width: number, docString: string): ValueInfoProto {
  return { name, docString, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: width }] } } } };
}

function intAttr(name: string, i: number): AttributeProto {
  return { name, type: AttributeType.INT, i };
}
function intsAttr(name: string, ints: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints };
}
function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return { name, type: AttributeType.TENSOR, t };
}
