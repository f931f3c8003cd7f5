import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "ml-core",
    include: ["test/**/*.test.ts"],
  },
});
