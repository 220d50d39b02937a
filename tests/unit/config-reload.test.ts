import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "@leadflow/core";
import { scoringModel } from "@leadflow/lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ConfigReload, useCheckedConfig } from "../../packages/local/src/config-reload.ts";
import { watchConfigFiles } from "../../packages/local/src/config-watch.ts";

const timing = { intervalMs: 20, settleMs: 100 };
let workDir = "";
let configDir = "";
const scoringFile = () => join(configDir, "scoring.yaml");
const shipped = readFileSync("config/scoring.yaml", "utf8");
const cheaperDemos = shipped.replace("event: demo_request\n      points: 40", "event: demo_request\n      points: 25");
const demoPoints = () => scoringModel().rulesByEvent.get("demo_request")?.[0]?.points;

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), "leadflow-reload-"));
  configDir = join(workDir, "config");
  cpSync("config", configDir, { recursive: true });
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("the config npm start's handlers read", () => {
  const reloads: ConfigReload[] = [];
  let config: ReturnType<typeof useCheckedConfig> | undefined;
  beforeEach(() => {
    reloads.length = 0;
  });
  afterEach(() => config?.close());

  const start = () => {
    config = useCheckedConfig(configDir, (reload) => reloads.push(reload), timing);
    return config;
  };

  it("is only ever what passed the checks, even when a broken save follows a good one", async () => {
    start();
    expect(demoPoints()).toBe(40);
    writeFileSync(scoringFile(), cheaperDemos);
    await vi.waitFor(() =>
      expect(reloads).toEqual([{ configDir: expect.any(String), scoringVersion: expect.any(String) }]),
    );
    // Saved again, broken, before any handler read the good edit.
    writeFileSync(scoringFile(), `${shipped}\nthresholds: [`);
    await vi.waitFor(() => expect(reloads[1]).toEqual({ mistakes: expect.any(ConfigError) }));
    expect(demoPoints()).toBe(25);
    expect(scoringModel().version).toBe((reloads[0] as { scoringVersion: string }).scoringVersion);
  });

  it("reports the fix of a refused edit, and no touch that leaves the files as they were", async () => {
    start();
    writeFileSync(scoringFile(), `${shipped}\nthresholds: [`);
    await vi.waitFor(() => expect(reloads).toHaveLength(1));
    writeFileSync(scoringFile(), shipped);
    await vi.waitFor(() =>
      expect(reloads[1]).toEqual({ configDir: expect.any(String), scoringVersion: scoringModel().version }),
    );
    utimesSync(scoringFile(), new Date(), new Date(Date.now() + 5_000));
    await sleep(timing.settleMs * 3);
    expect(reloads).toHaveLength(2);
  });

  it("refuses a config/ with mistakes at start, leaving LEADFLOW_CONFIG_DIR as it was", () => {
    const before = process.env.LEADFLOW_CONFIG_DIR;
    writeFileSync(scoringFile(), `${shipped}\nthresholds: [`);
    expect(start).toThrow(ConfigError);
    expect(process.env.LEADFLOW_CONFIG_DIR).toBe(before);
  });

  it("removes its copies and restores LEADFLOW_CONFIG_DIR when closed", () => {
    const before = process.env.LEADFLOW_CONFIG_DIR;
    const copy = start().current();
    expect(existsSync(join(copy, "scoring.yaml"))).toBe(true);
    config?.close();
    config = undefined;
    expect(existsSync(copy)).toBe(false);
    expect(process.env.LEADFLOW_CONFIG_DIR).toBe(before);
  });
});

describe("watching config/ for edits", () => {
  let edits = 0;
  let watcher: ReturnType<typeof watchConfigFiles>;
  beforeEach(() => {
    edits = 0;
    watcher = watchConfigFiles(configDir, () => edits++, timing);
  });
  afterEach(() => watcher.close());

  it("reports a save written in steps once, when it has settled", async () => {
    writeFileSync(scoringFile(), shipped.slice(0, 200));
    await sleep(timing.intervalMs * 3);
    writeFileSync(scoringFile(), cheaperDemos);
    await vi.waitFor(() => expect(edits).toBe(1));
    await sleep(timing.settleMs * 2);
    expect(edits).toBe(1);
  });

  it("keeps watching when config/ is replaced as a whole", async () => {
    const replacement = join(workDir, "replacement");
    cpSync(configDir, replacement, { recursive: true });
    writeFileSync(join(replacement, "scoring.yaml"), cheaperDemos);
    renameSync(configDir, join(workDir, "previous"));
    renameSync(replacement, configDir);
    await vi.waitFor(() => expect(edits).toBe(1));

    writeFileSync(scoringFile(), `${cheaperDemos}\n`);
    await vi.waitFor(() => expect(edits).toBe(2));
  });
});
