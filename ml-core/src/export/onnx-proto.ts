/**
 * ONNX's protobuf messages, encoded and decoded by protobufjs. The schema is ONNX's own
 * `onnx/onnx-ml.proto` at tag v1.22.0 (commit 2bb50465112f), held as protobufjs's JSON descriptor
 * in `onnx-ml.json` (`Root.toJSON()` of the parsed file, the format `pbjs -t json` writes), so that
 * no .proto parser runs at export time and the schema ships inside dist/ as an imported module.
 *
 * The interfaces below type the subset of the messages this package writes; field names are
 * protobufjs's camelCase spelling of the .proto names (`ir_version` → `irVersion`).
 */
import { Root, type INamespace, type Type } from "protobufjs/light";
import descriptor from "./onnx-ml.json";

const root = Root.fromJSON(descriptor as INamespace);
const ModelProtoType: Type = root.lookupType("onnx.ModelProto");

/** `onnx.TensorProto.DataType` values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, DOUBLE: 11 } as const;

/** `onnx.AttributeProto.AttributeType` values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorProto {
  dims: number[];
  dataType: number;
  name?: string;
  /** Little-endian element bytes, as ONNX specifies for `raw_data`. */
  rawData?: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  t?: TensorProto;
  ints?: number[];
  floats?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  opType: string;
  domain?: string;
  name?: string;
  input: string[];
  output: string[];
  attribute?: AttributeProto[];
  docString?: string;
}

export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoProto {
  name: string;
  docString?: string;
  type: { tensorType: { elemType: number; shape: { dim: Dimension[] } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer?: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps?: { key: string; value: string }[];
}

/** The protobuf bytes of `model`; throws when a field does not fit the schema. */
export function encodeModel(model: ModelProto): Uint8Array {
  const problem = ModelProtoType.verify(model);
  if (problem !== null) throw new Error(`internal error: ONNX ModelProto does not fit onnx-ml.proto: ${problem}`);
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

/**
 * Parses ONNX protobuf bytes back into plain objects (int64 fields as numbers, bytes as Buffers):
 * for reading an exported file's metadata and for tests.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: Number, defaults: false, arrays: true }) as ModelProto;
}
