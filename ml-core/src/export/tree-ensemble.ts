/**
 * ml-core's trees as the attributes of one `ai.onnx.ml` TreeEnsemble node (opset 5).
 *
 * Why TreeEnsemble (ai.onnx.ml 5) and not TreeEnsembleClassifier/Regressor (opsets 1 and 3): only it
 * has BRANCH_MEMBER, a test of a value against a set, which is exactly ml-core's categorical split
 * ("the category code is in categoriesLeft"). The older operators know only single-value tests
 * (BRANCH_EQ, …), so one categorical split would become a chain of nodes, one per code. The
 * onnxruntime-node installed here (1.30) implements it, BRANCH_MEMBER and missing-value tracking
 * included (test/onnx-export.test.ts runs it).
 *
 * ml-core sends a row left when `x <= threshold` (numeric) or its code is in `categoriesLeft`
 * (categorical), and a missing value (NaN) left when `missingLeft` is 1 (gbdt/types.ts). Here the
 * true branch is ml-core's left: BRANCH_LEQ / BRANCH_MEMBER, and `nodes_missing_value_tracks_true`
 * is `missingLeft`.
 */
import type { ModelJson, TreeJson } from "../model/format";

/** `nodes_modes` values (ai.onnx.ml TreeEnsemble 5). */
export const BRANCH_LEQ = 0;
export const BRANCH_MEMBER = 6;

/** The TreeEnsemble attributes, as plain arrays; float values are already rounded to float32. */
export interface TreeEnsembleArrays {
  readonly nTargets: number;
  readonly treeRoots: number[];
  readonly featureIds: number[];
  readonly modes: number[];
  readonly splits: number[];
  readonly trueNodeIds: number[];
  readonly falseNodeIds: number[];
  readonly trueLeafs: number[];
  readonly falseLeafs: number[];
  readonly missingTracksTrue: number[];
  /** The sets of BRANCH_MEMBER nodes in node order, each followed by NaN (the operator's delimiter). */
  readonly membershipValues: number[];
  readonly leafTargetIds: number[];
  readonly leafWeights: number[];
}

export function treeEnsembleArrays(model: ModelJson, nTargets: number): TreeEnsembleArrays {
  const a: TreeEnsembleArrays = {
    nTargets,
    treeRoots: [],
    featureIds: [],
    modes: [],
    splits: [],
    trueNodeIds: [],
    falseNodeIds: [],
    trueLeafs: [],
    falseLeafs: [],
    missingTracksTrue: [],
    membershipValues: [],
    leafTargetIds: [],
    leafWeights: [],
  };
  for (const tree of model.trees) addTree(a, tree);
  return a;
}

function addTree(a: TreeEnsembleArrays, tree: TreeJson): void {
  const addLeaf = (i: number): number => {
    a.leafTargetIds.push(tree.output);
    a.leafWeights.push(Math.fround(tree.value[i]!));
    return a.leafWeights.length - 1;
  };
  a.treeRoots.push(a.featureIds.length);
  if (tree.feature[0] === -1) {
    // A tree that is one leaf: the operator has no such tree, so one node whose both branches
    // reach that leaf (the form the operator's documentation gives for it).
    const leaf = addLeaf(0);
    pushNode(a, 0, BRANCH_LEQ, 0, 0);
    setChildren(a, a.featureIds.length - 1, { id: leaf, leaf: true }, { id: leaf, leaf: true });
    return;
  }
  // Depth-first from the root; `ref` of each child is filled in once the child has its index.
  const visit = (i: number): { id: number; leaf: boolean } => {
    if (tree.feature[i] === -1) return { id: addLeaf(i), leaf: true };
    const cats = tree.categoriesLeft[i];
    const id = a.featureIds.length;
    if (cats !== null && cats !== undefined) {
      if (cats.length === 0) {
        // No code goes left: a test no code passes (codes are >= 0).
        pushNode(a, tree.feature[i]!, BRANCH_LEQ, -Infinity, tree.missingLeft[i]!);
      } else {
        pushNode(a, tree.feature[i]!, BRANCH_MEMBER, 0, tree.missingLeft[i]!);
        a.membershipValues.push(...cats, NaN);
      }
    } else {
      pushNode(a, tree.feature[i]!, BRANCH_LEQ, float32AtMost(tree.threshold[i]!), tree.missingLeft[i]!);
    }
    const left = visit(tree.left[i]!);
    const right = visit(tree.right[i]!);
    setChildren(a, id, left, right);
    return { id, leaf: false };
  };
  visit(0);
}

function pushNode(a: TreeEnsembleArrays, feature: number, mode: number, split: number, missingLeft: number): void {
  a.featureIds.push(feature);
  a.modes.push(mode);
  a.splits.push(split);
  a.missingTracksTrue.push(missingLeft ? 1 : 0);
  a.trueNodeIds.push(-1);
  a.falseNodeIds.push(-1);
  a.trueLeafs.push(0);
  a.falseLeafs.push(0);
}

function setChildren(a: TreeEnsembleArrays, node: number, left: { id: number; leaf: boolean }, right: { id: number; leaf: boolean }): void {
  a.trueNodeIds[node] = left.id;
  a.trueLeafs[node] = left.leaf ? 1 : 0;
  a.falseNodeIds[node] = right.id;
  a.falseLeafs[node] = right.leaf ? 1 : 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The largest float32 not above `t`. ml-core's thresholds are float64 bin edges; the operator's are
 * float32 (the input's type). Rounding to nearest could move the edge up past a float32 input `x`
 * with `t < x <= fround(t)`, which ml-core sends right and the export would send left. With the
 * largest float32 `t32 <= t`, every float32 `x` has `x <= t` exactly when `x <= t32`, so routing is
 * identical for float32 inputs. (A float64 input that is not a float32 may still round across an
 * edge when the caller converts it; README, "ONNX export".)
 */
export function float32AtMost(t: number): number {
  const r = Math.fround(t);
  if (r <= t || Number.isNaN(t)) return r;
  // r > t: step one float32 toward -Infinity (bits − 1 for positives, + 1 for negatives, and from
  // +0 to the smallest negative subnormal).
  f32[0] = r;
  if (r > 0) u32[0]! -= 1;
  else if (r === 0) u32[0] = 0x80000001;
  else u32[0]! += 1;
  return f32[0]!;
}
