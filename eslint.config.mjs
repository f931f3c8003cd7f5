import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/coverage/**", "bench/.data/**", ".local/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        __dirname: "readonly",
        require: "readonly",
        module: "writable",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
      eqeqeq: ["error", "smart"],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits or handles is a crash or a lost error waiting to happen.
    files: ["**/*.ts", "**/*.mts"],
    ignores: ["**/vitest.config.mts"],
    languageOptions: {
      parserOptions: {
        // One program for every linted file (why: tsconfig.eslint.json).
        project: ["./tsconfig.eslint.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
    },
  },
  {
    // Tests and the offline mock runner handle untyped resource inputs (JSON as the engine sees it).
    files: ["test/**", "**/test/**", "infra/offline/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
