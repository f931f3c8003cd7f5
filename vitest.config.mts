import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// One run covers every workspace: the platform's own tests in test/, and each package's suite
// under its own config.
export default defineConfig({
  test: {
    // Vitest keeps a core for itself by default (cores - 1 workers): one worker on a 2-core
    // machine, running the files one after another. Its own work is light next to the workers'.
    maxWorkers: availableParallelism(),
    projects: [
      "contract",
      "ml-core",
      "deploy-scripts",
      {
        test: {
          name: "platform",
          include: ["test/**/*.test.ts"],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
          // Every plan sets the Pulumi runtime's module-level state afresh (setMocks resets the
          // options and the stack resource, setAllConfig replaces the config; see
          // infra/offline/mock-run.ts), so files can share a worker process: a fresh process per
          // file spent about 2 s per file re-importing @pulumi/aws.
          pool: "forks",
          isolate: false,
          // A test here runs the whole program once per plan (about a second each, several times that
          // on a loaded machine), often several plans: vitest's 5 s default fails them for load alone.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
