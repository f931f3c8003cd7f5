import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { tmpDir } from "./helpers";
import { staleSources } from "./server-helpers";

describe("rebuilding before child-process tests", () => {
  it("finds a stale or unbuilt source in any folder of src/, not only the server's", () => {
    const root = tmpDir();
    const write = (file: string, mtime: number): void => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), "");
      fs.utimesSync(path.join(root, file), mtime, mtime);
    };
    write("src/server/app.ts", 100);
    write("dist/server/app.js", 200);
    write("src/gbdt/loss/index.ts", 300);
    write("dist/gbdt/loss/index.js", 200);
    write("src/codec/csv.ts", 100);
    write("src/data/table.ts", 100);
    write("dist/data/table.js", 100);
    expect(
      staleSources(root)
        .map((f) => path.relative(root, f))
        .sort(),
    ).toEqual(["src/codec/csv.ts", "src/gbdt/loss/index.ts"]);
  });
});
