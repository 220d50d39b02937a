import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigOf, readConfigOf } from "@leadflow/config";
import { ConfigError } from "@leadflow/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configCheckReport } from "../../packages/local/src/config-files.ts";
import { testRegistry } from "../helpers/config-registry.ts";

let workDir = "";
/** Stands for the project's config/: the real files plus the test-only folders. */
let project = "";
/** Stands for `--config DIR`: empty until a test writes to it. */
let dir = "";

const shippedScoring = readFileSync("config/scoring.yaml", "utf8");
const cheaperDemos = shippedScoring.replace(
  "event: demo_request\n      points: 40",
  "event: demo_request\n      points: 25",
);
const demoPoints = (config: { scoring: { rulesByEvent: ReadonlyMap<string, { points: number }[]> } }) =>
  config.scoring.rulesByEvent.get("demo_request")?.[0]?.points;

function write(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), "leadflow-registry-"));
  project = join(workDir, "project");
  dir = join(workDir, "dir");
  cpSync("config", project, { recursive: true });
  mkdirSync(dir);
  write(join(project, "notes", "a.yaml"), "title: A\npoints: 1\n");
  write(join(project, "notes", "b.yaml"), "title: B\npoints: 2\n");
  write(join(project, "snippets", "hello.txt"), "Hello\n");
});

afterEach(() => rmSync(workDir, { recursive: true, force: true }));

const read = () => readConfigOf(testRegistry, dir, project);

describe("a folder entry", () => {
  it("reads the matching files of the folder in name order, each into the config and the files read", () => {
    write(join(project, "notes", ".c.yaml"), "not: a note\n");
    write(join(project, "notes", "d.txt"), "not a note either\n");
    const { issues, config, files } = read();
    expect(issues).toEqual([]);
    expect([...(config?.notes.entries() ?? [])]).toEqual([
      ["a.yaml", { title: "A", points: 1 }],
      ["b.yaml", { title: "B", points: 2 }],
    ]);
    expect(files.map(({ path }) => path)).toEqual([
      "sources.yaml",
      "scoring.yaml",
      "routing.yaml",
      "templates/demo-offer.liquid",
      "templates/reactivate-1.liquid",
      "sequences/cold-reactivation.yaml",
      "notes/a.yaml",
      "notes/b.yaml",
      "snippets/hello.txt",
    ]);
  });

  it("names the file, line and column of a mistake in one of its files, and compiles nothing", () => {
    write(join(project, "notes", "b.yaml"), "title: B\npoints: many\n");
    const { issues, config } = read();
    expect(issues).toEqual([
      expect.objectContaining({ file: join(project, "notes", "b.yaml"), line: 2, column: 9, path: "points" }),
    ]);
    expect(config).toBeUndefined();
  });

  it("names the file, line and column of what its compile step refuses, in every file at once", () => {
    write(join(project, "snippets", "bad.txt"), "Fine\nsay TODO here\n");
    write(join(project, "snippets", "worse.txt"), "TODO\n");
    expect(read().issues).toEqual([
      { file: join(project, "snippets", "bad.txt"), line: 2, column: 5, path: "", message: "a TODO is left in" },
      { file: join(project, "snippets", "worse.txt"), line: 1, column: 1, path: "", message: "a TODO is left in" },
    ]);
  });

  it("is empty when no directory has it", () => {
    rmSync(join(project, "notes"), { recursive: true });
    const { issues, config } = read();
    expect(issues).toEqual([]);
    expect(config?.notes.size).toBe(0);
  });
});

describe("a config directory with a fallback (--config DIR over config/)", () => {
  it("takes each file DIR lacks from the fallback", () => {
    const { issues, config, entries } = read();
    expect(issues).toEqual([]);
    expect(entries.map(({ key, location }) => [key, location])).toEqual([
      ["sources", join(project, "sources.yaml")],
      ["scoring", join(project, "scoring.yaml")],
      ["routing", join(project, "routing.yaml")],
      ["templates", join(project, "templates")],
      ["sequences", join(project, "sequences")],
      ["notes", join(project, "notes")],
      ["snippets", join(project, "snippets")],
    ]);
    expect(config?.sources.has("form")).toBe(true);
    expect(config && demoPoints(config)).toBe(40);
  });

  it("uses the file DIR has rather than the fallback's", () => {
    write(join(dir, "scoring.yaml"), cheaperDemos);
    const { config, entries } = read();
    expect(config && demoPoints(config)).toBe(25);
    expect(entries.find(({ key }) => key === "scoring")?.location).toBe(join(dir, "scoring.yaml"));
  });

  it("uses DIR's folder as a whole, even an empty one", () => {
    write(join(dir, "notes", "only.yaml"), "title: Only\npoints: 3\n");
    expect([...(read().config?.notes.keys() ?? [])]).toEqual(["only.yaml"]);
    rmSync(join(dir, "notes", "only.yaml"));
    expect(read().config?.notes.size).toBe(0);
  });

  it("names DIR's own file in its mistakes", () => {
    write(join(dir, "scoring.yaml"), `${shippedScoring}\nthresholds: [`);
    expect(read().issues).toEqual([expect.objectContaining({ file: join(dir, "scoring.yaml") })]);
  });

  it("reports a file found in neither directory, and a DIR that does not exist", () => {
    rmSync(join(project, "sources.yaml"));
    expect(read().issues).toEqual([
      expect.objectContaining({
        file: join(dir, "sources.yaml"),
        line: 1,
        column: 1,
        message: `not found (nor in ${project})`,
      }),
    ]);
    const missing = join(workDir, "missing");
    expect(readConfigOf(testRegistry, missing, project).issues).toEqual([
      expect.objectContaining({ file: missing, message: "no such directory" }),
    ]);
  });
});

describe("the config handlers load", () => {
  it("compiles each entry on first use, so a mistake in one never stops a handler using another", () => {
    write(join(dir, "scoring.yaml"), `${shippedScoring}\nthresholds: [`);
    const config = loadConfigOf(testRegistry, dir, project);
    expect(config.sources.has("form")).toBe(true);
    expect(() => config.scoring).toThrow(ConfigError);
    expect(config.notes.size).toBe(2);
  });
});

describe("npm run config:check's report", () => {
  it("lists each file and folder it read, with where it read it", () => {
    write(join(dir, "scoring.yaml"), cheaperDemos);
    expect(configCheckReport(dir, { fallbackDir: project, registry: testRegistry })).toEqual({
      ok: true,
      stdout: `${join(project, "sources.yaml")}, ${join(dir, "scoring.yaml")}, ${join(project, "routing.yaml")}, ${join(project, "templates")}/*.liquid (2 files), ${join(project, "sequences")}/*.yaml (1 file), ${join(project, "notes")}/*.yaml (2 files), ${join(project, "snippets")}/*.txt (1 file): OK\n`,
      stderr: "",
    });
  });

  it("prints each mistake in a folder's file as file:line:column", () => {
    write(join(dir, "notes", "a.yaml"), "title: A\npoints: 1\nextra: true\n");
    const report = configCheckReport(dir, { fallbackDir: project, registry: testRegistry });
    expect(report.ok).toBe(false);
    expect(report.stderr).toBe(
      `${join(dir, "notes", "a.yaml")}:3:1 Unrecognized key: "extra"\n\n1 mistake(s) in ${dir}/\n`,
    );
  });
});
