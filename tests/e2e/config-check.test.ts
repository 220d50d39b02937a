import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const configDir = mkdtempSync(join(tmpdir(), "leadflow-config-"));
copyFileSync("config/sources.yaml", join(configDir, "sources.yaml"));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

/** `npm run config:check`, in its own process; LEADFLOW_CONFIG_DIR unset when `dir` is. */
function configCheck(dir?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { LEADFLOW_CONFIG_DIR: _unset, ...environment } = process.env;
  const env = dir ? { ...environment, LEADFLOW_CONFIG_DIR: dir } : environment;
  return outcome(run(process.execPath, ["packages/local/src/config-check.ts"], { env }));
}

/** `npm run config:check -- --config DIR` as a user types it, from `cwd`, with LEADFLOW_CONFIG_DIR unset. */
function npmConfigCheck(dir: string, cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  const { LEADFLOW_CONFIG_DIR: _unset, ...env } = process.env;
  const args = ["run", "--silent", "--prefix", process.cwd(), "config:check", "--", "--config", dir];
  return outcome(run("npm", args, { env, cwd }));
}

async function outcome(
  running: Promise<{ stdout: string; stderr: string }>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** A valid scoring.yaml, as lines, to break one line at a time. */
const validScoring = [
  "fit:",
  "  - id: senior-title",
  "    description: Decides or signs",
  "    field: jobTitle",
  '    matches: "\\\\b(vp|director)\\\\b"',
  "    points: 20",
  "engagement:",
  "  halfLifeDays: 14",
  "  rules:",
  "    - id: demo-request",
  "      event: demo_request",
  "      points: 40",
  "temperature:",
  "  warm: { score: 30 }",
  "  hot: { score: 70 }",
  "stages:",
  "  informationQualified: { bantAnswered: 1 }",
  "  marketingQualified: { score: 60 }",
];

/** The scoring lines with `line` (1-based) replaced. */
function withLine(line: number, text: string): string[] {
  return validScoring.map((current, index) => (index === line - 1 ? text : current));
}

describe("npm run config:check", () => {
  it("passes the shipped config", async () => {
    const result = await configCheck();
    expect(result).toEqual({
      code: 0,
      stdout:
        "config/sources.yaml, config/scoring.yaml, config/routing.yaml, config/templates/*.liquid (2 files), config/sequences/*.yaml (1 file): OK\n",
      stderr: "",
    });
  });

  it("passes a valid scoring.yaml beside the shipped sources.yaml", async () => {
    writeFileSync(join(configDir, "scoring.yaml"), `${validScoring.join("\n")}\n`);
    expect((await configCheck(configDir)).code).toBe(0);
  });

  const cases = [
    {
      what: "a YAML syntax error",
      lines: withLine(3, "    description: @decides or signs"),
      line: 3,
      column: 18,
      message: "Plain value cannot start with reserved character @",
    },
    {
      what: "a fit rule with two tests",
      lines: [...validScoring.slice(0, 4), "    contains: vp", ...validScoring.slice(4)],
      line: 6,
      column: 14,
      message: "fit.0.matches: give one test only, not contains and matches",
    },
    {
      what: "an unknown event type",
      lines: withLine(11, "      event: demo_requested"),
      line: 11,
      column: 14,
      message:
        'engagement.rules.0.event: unknown event type "demo_requested": use a built-in one or list it in customEvents',
    },
  ];

  it.each(cases)("exits 1 on $what, naming its file, line and column", async ({ lines, line, column, message }) => {
    writeFileSync(join(configDir, "scoring.yaml"), `${lines.join("\n")}\n`);
    const result = await configCheck(configDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${join(configDir, "scoring.yaml")}:${line}:${column} ${message}\n\n1 mistake(s) in ${configDir}/\n`,
    );
  });
});

describe("npm run config:check -- --config DIR", () => {
  const workDir = mkdtempSync(join(tmpdir(), "leadflow-config-dir-"));
  const dir = join(workDir, "mine");
  mkdirSync(dir);
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("checks DIR's files, taking each one DIR lacks from config/", async () => {
    writeFileSync(join(dir, "scoring.yaml"), `${validScoring.join("\n")}\n`);
    expect(await npmConfigCheck(dir)).toEqual({
      code: 0,
      stdout: `config/sources.yaml, ${join(dir, "scoring.yaml")}, config/routing.yaml, config/templates/*.liquid (2 files), config/sequences/*.yaml (1 file): OK\n`,
      stderr: "",
    });
  });

  it("reads a relative DIR from where the command was typed", async () => {
    writeFileSync(join(dir, "scoring.yaml"), `${validScoring.join("\n")}\n`);
    const result = await npmConfigCheck("mine", workDir);
    expect(result.stdout).toBe(
      `config/sources.yaml, ${join(relative(process.cwd(), dir), "scoring.yaml")}, config/routing.yaml, config/templates/*.liquid (2 files), config/sequences/*.yaml (1 file): OK\n`,
    );
  });

  it("exits 1 on a mistake in DIR's file, naming DIR's file, line and column", async () => {
    writeFileSync(join(dir, "scoring.yaml"), `${withLine(11, "      event: demo_requested").join("\n")}\n`);
    const result = await npmConfigCheck(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^${join(dir, "scoring.yaml")}:11:14 engagement\\.rules\\.0\\.event: `));
  });

  it("exits 1 when DIR does not exist, rather than checking config/ alone", async () => {
    const missing = join(workDir, "missing");
    const result = await npmConfigCheck(missing);
    expect(result).toMatchObject({
      code: 1,
      stderr: `${missing}:1:1 no such directory\n\n1 mistake(s) in ${missing}/\n`,
    });
  });
});
