// dependency-cruiser's configuration: no cycles, and the rooms of layers.cjs in their order.
const { LAYERS, layeringRules } = require("./layers.cjs");

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", comment: "imports run one way: no cycles", severity: "error", from: {}, to: { circular: true } },
    ...layeringRules(LAYERS),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
