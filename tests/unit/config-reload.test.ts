import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfigOf } from "@leadflow/config";
import { ConfigError } from "@leadflow/core";
import { perConfig, scoringModel } from "@leadflow/lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ConfigReload, useCheckedConfig } from "../../packages/local/src/config-reload.ts";
import { watchConfigFiles } from "../../packages/local/src/config-watch.ts";
import { testRegistry } from "../helpers/config-registry.ts";

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
    config = useCheckedConfig(configDir, (reload) => reloads.push(reload), { timing });
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
    watcher = watchConfigFiles(configDir, () => edits++, { timing });
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

describe("folders and --config DIR, from the edit to the handlers", () => {
  /** Stands for the project's config/: the real files plus a test-only folder of notes. */
  let project = "";
  /** Stands for `--config DIR`. */
  let dir = "";
  const reloads: ConfigReload[] = [];
  let config: ReturnType<typeof useCheckedConfig> | undefined;
  /** What a handler reads, built as packages/lambda's `config()` is, over the test registry. */
  const handlerNotes = perConfig(() => loadConfigOf(testRegistry, process.env.LEADFLOW_CONFIG_DIR as string).notes);
  const noteNames = () => [...handlerNotes().keys()];
  const note = (name: string, points: number) =>
    writeFileSync(join(project, "notes", name), `title: ${name}\npoints: ${points}\n`);

  beforeEach(() => {
    reloads.length = 0;
    project = join(workDir, "project");
    dir = join(workDir, "dir");
    cpSync("config", project, { recursive: true });
    mkdirSync(join(project, "notes"));
    mkdirSync(dir);
    note("a.yaml", 1);
    note("b.yaml", 2);
    config = useCheckedConfig(dir, (reload) => reloads.push(reload), {
      timing,
      fallbackDir: project,
      registry: testRegistry,
    });
  });
  afterEach(() => config?.close());

  it("copies every file and folder, those DIR lacks from config/, and hands handlers the folder compiled", () => {
    const copy = config?.current() as string;
    expect(readdirSync(copy).sort()).toEqual([
      "notes",
      "routing.yaml",
      "scoring.yaml",
      "sequences",
      "snippets",
      "sources.yaml",
      "templates",
    ]);
    expect(readdirSync(join(copy, "notes"))).toEqual(["a.yaml", "b.yaml"]);
    expect(noteNames()).toEqual(["a.yaml", "b.yaml"]);
    expect(handlerNotes().get("b.yaml")).toEqual({ title: "b.yaml", points: 2 });
  });

  it("takes a file added to, changed in or removed from a folder as an edit", async () => {
    note("c.yaml", 3);
    await vi.waitFor(() => expect(reloads).toHaveLength(1));
    expect(noteNames()).toEqual(["a.yaml", "b.yaml", "c.yaml"]);
    note("c.yaml", 5);
    await vi.waitFor(() => expect(reloads).toHaveLength(2));
    expect(handlerNotes().get("c.yaml")?.points).toBe(5);
    rmSync(join(project, "notes", "a.yaml"));
    await vi.waitFor(() => expect(reloads).toHaveLength(3));
    expect(noteNames()).toEqual(["b.yaml", "c.yaml"]);
  });

  it("keeps the previous config when a folder's file has a mistake, naming that file", async () => {
    writeFileSync(join(project, "notes", "b.yaml"), "title: b\npoints: many\n");
    await vi.waitFor(() => expect(reloads).toHaveLength(1));
    const [reload] = reloads;
    expect(reload && "mistakes" in reload && reload.mistakes.issues).toEqual([
      expect.objectContaining({ file: join(project, "notes", "b.yaml"), line: 2, column: 9 }),
    ]);
    expect(handlerNotes().get("b.yaml")?.points).toBe(2);
  });

  it("uses a file once DIR has it, and config/'s again once DIR no longer does", async () => {
    expect(demoPoints()).toBe(40);
    writeFileSync(join(dir, "scoring.yaml"), cheaperDemos);
    await vi.waitFor(() => expect(reloads).toHaveLength(1));
    expect(demoPoints()).toBe(25);
    rmSync(join(dir, "scoring.yaml"));
    await vi.waitFor(() => expect(reloads).toHaveLength(2));
    expect(demoPoints()).toBe(40);
  });
});

describe("watching a folder of config", () => {
  let edits = 0;
  let watcher: ReturnType<typeof watchConfigFiles>;
  const notes = () => join(configDir, "notes");
  beforeEach(() => {
    edits = 0;
    mkdirSync(notes());
    writeFileSync(join(notes(), "a.yaml"), "title: a\npoints: 1\n");
    watcher = watchConfigFiles(configDir, () => edits++, { timing, registry: testRegistry });
  });
  afterEach(() => watcher.close());

  it("takes a matching file added or removed as an edit, and ignores files the pattern leaves out", async () => {
    writeFileSync(join(notes(), "b.yaml"), "title: b\npoints: 2\n");
    await vi.waitFor(() => expect(edits).toBe(1));
    writeFileSync(join(notes(), "README.md"), "not a note\n");
    writeFileSync(join(notes(), ".b.yaml.swp"), "an editor's swap file\n");
    await sleep(timing.settleMs * 3);
    expect(edits).toBe(1);
    rmSync(join(notes(), "a.yaml"));
    await vi.waitFor(() => expect(edits).toBe(2));
  });
});
