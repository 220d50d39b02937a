import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configFileNames, jsonSchemaOf, schemaFileName } from "../../packages/local/src/config-files.ts";

describe("config/schema", () => {
  it.each(configFileNames)("%s's JSON Schema is the one its zod schema emits (npm run config:schema)", (name) => {
    expect(readFileSync(`config/schema/${schemaFileName(name)}`, "utf8")).toBe(jsonSchemaOf(name));
  });

  it("each config file names its schema for editors", () => {
    for (const name of configFileNames) {
      expect(readFileSync(`config/${name}`, "utf8")).toContain(
        `# yaml-language-server: $schema=./schema/${schemaFileName(name)}`,
      );
    }
  });
});
