import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/coverage/**", "bench/.data/**", ".local/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", Buffer: "readonly", __dirname: "readonly", require: "readonly", module: "writable", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
      eqeqeq: ["error", "smart"],
    },
  },
  {
    // Tests and the offline mock runner handle untyped resource inputs (JSON as the engine sees it).
    files: ["test/**", "**/test/**", "infra/offline/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
