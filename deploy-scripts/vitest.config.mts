import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "deploy-scripts",
    include: ["test/**/*.test.ts"],
  },
});
