import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scoringModel } from "@leadflow/lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ConfigSnapshot, configSnapshots } from "../../packages/local/src/config-snapshots.ts";
import { watchConfigFiles } from "../../packages/local/src/config-watch.ts";

let workDir = "";
let configDir = "";
const scoringFile = () => join(configDir, "scoring.yaml");
const cheaperDemos = (text: string) =>
  text.replace("event: demo_request\n      points: 40", "event: demo_request\n      points: 25");

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), "leadflow-reload-"));
  configDir = join(workDir, "config");
  cpSync("config", configDir, { recursive: true });
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("npm start's checked copies of config/", () => {
  const snapshots: ReturnType<typeof configSnapshots>[] = [];
  afterEach(() => {
    for (const taken of snapshots.splice(0)) taken.remove();
  });

  /** What `npm start` does after an edit: the handlers read the new copy, if there is one. */
  function reload(taken: ConfigSnapshot) {
    if ("dir" in taken) process.env.LEADFLOW_CONFIG_DIR = taken.dir;
    return taken;
  }

  it("gives handlers only what passed the checks, even when a broken save follows a good one at once", () => {
    const copies = configSnapshots(configDir);
    snapshots.push(copies);
    reload(copies.take());
    const shipped = scoringModel().version;

    const original = readFileSync(scoringFile(), "utf8");
    writeFileSync(scoringFile(), cheaperDemos(original));
    reload(copies.take());
    // Saved again, broken, before any handler read the good edit.
    writeFileSync(scoringFile(), `${original}\nthresholds: [`);
    const refused = reload(copies.take());

    expect(refused).toEqual({ issues: [expect.objectContaining({ file: scoringFile(), line: expect.any(Number) })] });
    const edited = scoringModel();
    expect(edited.version).not.toBe(shipped);
    expect(edited.rulesByEvent.get("demo_request")?.[0]?.points).toBe(25);
  });
});

describe("watching config/ for edits", () => {
  let edits = 0;
  let watcher: ReturnType<typeof watchConfigFiles>;
  beforeEach(() => {
    edits = 0;
    watcher = watchConfigFiles(configDir, () => edits++, { intervalMs: 20, settleMs: 20 });
  });
  afterEach(() => watcher.close());

  it("reports an edit once, when it has settled", async () => {
    writeFileSync(scoringFile(), "# being saved\n");
    writeFileSync(scoringFile(), cheaperDemos(readFileSync("config/scoring.yaml", "utf8")));
    await vi.waitFor(() => expect(edits).toBe(1));
  });

  it("keeps watching when config/ is replaced as a whole", async () => {
    const replacement = join(workDir, "replacement");
    cpSync(configDir, replacement, { recursive: true });
    writeFileSync(join(replacement, "scoring.yaml"), cheaperDemos(readFileSync(scoringFile(), "utf8")));
    renameSync(configDir, join(workDir, "previous"));
    renameSync(replacement, configDir);
    await vi.waitFor(() => expect(edits).toBeGreaterThan(0));

    const count = edits;
    writeFileSync(scoringFile(), `${readFileSync(scoringFile(), "utf8")}\n`);
    await vi.waitFor(() => expect(edits).toBe(count + 1));
  });
});
