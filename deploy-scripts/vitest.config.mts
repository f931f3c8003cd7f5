import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "deploy-scripts",
    include: ["test/**/*.test.ts"],
    // The SDK's notice that its 2027 releases need Node.js 22 is true, but noise in every test log.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
