// Types of server-fake-predictor.cjs (plain CommonJS, so the server's child processes can load it too).
import type { FeatureInfo, Objective, Predictor } from "../src/model/predictor";

export declare const BUG_AGE: number;
export declare const FEATURES: readonly FeatureInfo[];
export declare function score(age: number, income: number, color: number): number;
export declare function fakePredictor(opts?: { objective?: Objective; slowMicrosPerRow?: number }): Predictor;
