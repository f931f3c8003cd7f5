import type { Objective } from "../types";
import { binaryLogloss } from "./binary-logloss";
import type { Loss } from "./loss";
import { multiclassLogloss } from "./multiclass-logloss";
import { squaredError } from "./squared-error";

export type { Loss } from "./loss";

export function lossFor(objective: Objective, nClasses: number): Loss {
  switch (objective) {
    case "regression":
      return squaredError;
    case "binary":
      return binaryLogloss;
    case "multiclass":
      return multiclassLogloss(nClasses);
  }
}

/** The loss a model's trees were trained on, by its name (what a training thread rebuilds). */
export function lossNamed(name: Loss["name"], nOutputs: number): Loss {
  switch (name) {
    case "squared_error":
      return squaredError;
    case "binary_logloss":
      return binaryLogloss;
    case "multiclass_logloss":
      return multiclassLogloss(nOutputs);
  }
}
