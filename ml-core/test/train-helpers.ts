// Training in-process from CSV files, as the training job does, for the model-level tests.
import { readTableWithSchema, type DataSchema, type Table } from "../src/data/table";
import { readBinnedTable, readBinnedTrainingData } from "../src/train/binned-data";
import { Random } from "../src/gbdt/random";
import { FlatPredictor } from "../src/model/flat-predictor";
import { binningSeed, TrainingSession, type FitResult } from "../src/train/session";
import { parseHyperparameters } from "../src/train/hyperparameters";

export interface Trained extends FitResult {
  schema: DataSchema;
  predictor: FlatPredictor;
}

export function trainFiles(trainFiles: string[], hp: Record<string, string>, validationFiles?: string[]): Trained {
  const parsed = parseHyperparameters(hp);
  const { schema, mapper, table } = readBinnedTrainingData(
    trainFiles,
    "train",
    { ...parsed.layout, maxCategories: parsed.params.maxBins },
    parsed.params.maxBins,
    new Random(binningSeed(parsed.params.seed)),
  );
  const validation = validationFiles ? readBinnedTable(validationFiles, "validation", schema, mapper) : undefined;
  const session = new TrainingSession({ schema, mapper, train: table, validation, params: parsed.params, hyperparameters: parsed.resolved });
  while (!session.done) session.step();
  const result = session.finish();
  return { ...result, schema, predictor: new FlatPredictor(result.model) };
}

/** Row-major encoded features of a table read against a schema (what a scorer would pass). */
export function featureMatrix(files: string[], schema: DataSchema): { x: Float64Array; table: Table } {
  const table = readTableWithSchema(files, "test", schema);
  const nF = schema.features.length;
  const x = new Float64Array(table.nRows * nF);
  for (let f = 0; f < nF; f++) for (let i = 0; i < table.nRows; i++) x[i * nF + f] = table.columns[f][i];
  return { x, table };
}
