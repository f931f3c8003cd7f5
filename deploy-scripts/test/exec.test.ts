import { describe, expect, it } from "vitest";
import { exec } from "../src/system/exec";

// The real exec, not the fake the command tests inject: `npm start` crashed one run in three when
// git exited before its stdin was written (an unhandled EPIPE).
describe("exec", () => {
  it("survives a child that exits before reading its input, every time", async () => {
    const input = "x".repeat(1 << 20); // far beyond a pipe's buffer, so the write cannot complete
    for (let i = 0; i < 40; i++) {
      const result = await exec("true", [], { input });
      expect(result.code).toBe(0);
    }
  });

  it("reports the exit code and output of a child that fails after reading its input", async () => {
    const result = await exec("sh", ["-c", "cat >/dev/null; echo out; echo err >&2; exit 3"], { input: "data\n" });
    expect(result).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("resolves a missing program with 127, as a shell would", async () => {
    const result = await exec("ml-platform-no-such-program", [], { input: "x" });
    expect(result.code).toBe(127);
  });
});
