import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const configDir = mkdtempSync(join(tmpdir(), "leadflow-config-"));
copyFileSync("config/sources.yaml", join(configDir, "sources.yaml"));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

/** `npm run config:check`, in its own process; LEADFLOW_CONFIG_DIR unset when `dir` is. */
async function configCheck(dir?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { LEADFLOW_CONFIG_DIR: _unset, ...environment } = process.env;
  const env = dir ? { ...environment, LEADFLOW_CONFIG_DIR: dir } : environment;
  try {
    const { stdout, stderr } = await run(process.execPath, ["packages/local/src/config-check.ts"], { env });
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
    expect(result).toEqual({ code: 0, stdout: "config/sources.yaml, config/scoring.yaml: OK\n", stderr: "" });
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
