import { readFileSync } from "node:fs";
import { parseSources } from "@leadflow/channels";
import { ConfigError, type ConfigIssue } from "@leadflow/core";
import { describe, expect, it } from "vitest";

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseSources(text, "sources.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

describe("config/sources.yaml", () => {
  it("the shipped file declares form, meta and google-ads", () => {
    const sources = parseSources(readFileSync("config/sources.yaml", "utf8"));
    expect([...sources.values()].map(({ name, type }) => [name, type])).toEqual([
      ["form", "form"],
      ["meta", "meta"],
      ["google-ads", "google-ads"],
    ]);
  });

  it("points at the line and column of a wrong value", () => {
    const issues = issuesOf("sources:\n  form:\n    type: fax\n");
    expect(issues).toEqual([
      expect.objectContaining({ file: "sources.yaml", line: 3, column: 11, path: "sources.form.type" }),
    ]);
  });

  it("points at an unknown key and at a bad field mapping", () => {
    const issues = issuesOf(
      "sources:\n  form:\n    type: form\n    secret: x\n    fields:\n      Budget: budget_range\n",
    );
    expect(issues.map(({ line, path }) => ({ line, path }))).toEqual(
      expect.arrayContaining([
        { line: 4, path: "sources.form" },
        { line: 6, path: "sources.form.fields.Budget" },
      ]),
    );
  });

  it("reports a YAML syntax error with its position", () => {
    const [issue] = issuesOf("sources:\n  form: {type: form\n");
    expect(issue).toMatchObject({ file: "sources.yaml", line: expect.any(Number), column: expect.any(Number) });
  });
});
