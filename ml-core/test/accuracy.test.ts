/**
 * Accuracy on real data shipped by the vega-datasets npm package, on fixed train/test splits. The
 * floors are the scores measured when these tests were written, less a small margin; scikit-learn's
 * HistGradientBoosting with the same hyperparameters and split scored as noted beside each.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { accuracy, auc, r2, rmse } from "../src/eval/metrics";
import { readVegaJson, split, tmpDir, toCsv, VEGA, writeFile } from "./helpers";
import { featureMatrix, trainFiles } from "./train-helpers";

function splitFiles(rows: Record<string, unknown>[], columns: string[]): { train: string[]; test: string[]; testRows: Record<string, unknown>[] } {
  const dir = tmpDir();
  const { train, test } = split(rows, 0.3);
  return {
    train: [writeFile(path.join(dir, "train.csv"), toCsv(train, columns))],
    test: [writeFile(path.join(dir, "test.csv"), toCsv(test, columns))],
    testRows: test,
  };
}

function classIndex(rows: Record<string, unknown>[], label: string, classes: readonly string[]): Float64Array {
  return Float64Array.from(rows, (r) => classes.indexOf(String(r[label])));
}

describe("accuracy on real datasets", () => {
  it("penguins (344 rows, species from measurements, island and sex; 3 classes)", () => {
    const rows = readVegaJson("penguins.json");
    const columns = ["Species", "Island", "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Sex"];
    const { train, test, testRows } = splitFiles(rows, columns);
    const t = trainFiles(train, { label: "Species", min_samples_leaf: "5" });
    const { x, table } = featureMatrix(test, t.schema);
    const p = t.predictor.predict(x, table.nRows);
    const y = classIndex(testRows, "Species", t.model.classes as string[]);
    const acc = accuracy(y, p, 3);
    // measured: accuracy 0.9806, macro AUC 0.9948 (sklearn: accuracy 0.9806)
    expect(acc).toBeGreaterThanOrEqual(0.97);
    expect(auc(y, p, 3)).toBeGreaterThanOrEqual(0.985);
  });

  it("seattle-weather (1461 days, weather type from precipitation, temperatures, wind, month; 5 classes)", () => {
    const text = fs.readFileSync(path.join(VEGA, "seattle-weather.csv"), "utf8").trim().split("\n");
    const rows = text.slice(1).map((line) => {
      const [date, precipitation, tempMax, tempMin, wind, weather] = line.split(",");
      return { weather, month: Number(date.slice(5, 7)), precipitation, temp_max: tempMax, temp_min: tempMin, wind };
    });
    const { train, test, testRows } = splitFiles(rows, ["weather", "month", "precipitation", "temp_max", "temp_min", "wind"]);
    const t = trainFiles(train, { label: "weather" });
    const { x, table } = featureMatrix(test, t.schema);
    const p = t.predictor.predict(x, table.nRows);
    const y = classIndex(testRows, "weather", t.model.classes as string[]);
    // measured: accuracy 0.8162, macro AUC 0.8772 (sklearn: accuracy 0.8162, macro AUC 0.8772)
    expect(accuracy(y, p, 5)).toBeGreaterThanOrEqual(0.8);
    expect(auc(y, p, 5)).toBeGreaterThanOrEqual(0.865);
  });

  it("cars (398 cars, miles per gallon from engine, weight, year and origin; regression)", () => {
    const rows = readVegaJson("cars.json")
      .filter((r) => r.Miles_per_Gallon !== null)
      .map((r) => ({ ...r, Year: String(r.Year).slice(0, 4) }));
    const columns = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year", "Origin"];
    const { train, test, testRows } = splitFiles(rows, columns);
    const t = trainFiles(train, { label: "Miles_per_Gallon", min_samples_leaf: "5" });
    const { x, table } = featureMatrix(test, t.schema);
    const p = t.predictor.predict(x, table.nRows);
    const y = Float64Array.from(testRows, (r) => r.Miles_per_Gallon as number);
    // measured: R² 0.8673, RMSE 3.02 (sklearn: R² 0.8683, RMSE 3.01)
    expect(r2(y, p)).toBeGreaterThanOrEqual(0.855);
    expect(rmse(y, p)).toBeLessThan(3.15);
  });
});
