// The rooms of src/ and the one direction imports may run, as data: lowest room first. A room may
// import rooms on earlier lines only; rooms on one line do not import each other. src/index.ts, the
// public API, stands above every room. .dependency-cruiser.cjs turns them into rules (`npx depcruise
// src` in ml-core/); test/layers.test.ts checks src/ against them and that every folder of src/ is
// a room here.
const LAYERS = [
  ["data"], // reading CSV into tables; how a field becomes a number
  ["gbdt"], // the algorithm: binning, histogram, split, grower, booster, losses
  ["import"], // models other libraries saved (XGBoost's JSON and UBJSON), read into gbdt's trees
  ["eval", "model"], // metrics; the model file format, load/save and predictors
  ["train", "codec"], // the training session and job; request/response formats and scoring
  ["server", "batch", "profile", "export"], // HTTP; batch scoring of files; training baselines and drift of requests; other model formats (ONNX)
  ["runtime"], // the contract entry points: the only place that reads env vars or fixed paths
];

function layeringRules(layers) {
  return layers.flatMap((line, level) =>
    line.map((room) => {
      const notBelow = layers
        .slice(level)
        .flat()
        .filter((r) => r !== room);
      return {
        name: `${room}-imports-upward`,
        comment: `${room}/ may import only ${layers.slice(0, level).flat().join(", ") || "no other room"}`,
        severity: "error",
        from: { path: `^src/${room}/` },
        to: { path: `^src/(${notBelow.join("|")})/` },
      };
    }),
  );
}

module.exports = { LAYERS, layeringRules };
