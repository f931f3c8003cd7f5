import { defineConfig } from "vitest/config";

// One run covers every workspace: the platform's own tests in test/, and each package's suite
// under its own config.
export default defineConfig({
  test: {
    projects: [
      "contract",
      "ml-core",
      "deploy-scripts",
      {
        test: {
          name: "platform",
          include: ["test/**/*.test.ts"],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
          // The Pulumi runtime keeps module-level state (mocks, config, stack); one fork per file
          // keeps stacks from leaking into each other.
          pool: "forks",
        },
      },
    ],
  },
});
