import { compileEachFile, configFolder, configRegistry } from "@leadflow/config";
import { ConfigError } from "@leadflow/core";
import { z } from "zod";

/** Each file of notes/*.yaml, checked against a schema. */
const notes = configFolder("notes", {
  pattern: "*.yaml",
  schema: z.strictObject({ title: z.string(), points: z.number().int() }),
  compile: (files) => new Map(files.map((file) => [file.name, file.config])),
});

/** snippets/*.txt: plain text whose compile step checks each file, as a template folder would. */
const snippets = configFolder("snippets", {
  pattern: "*.txt",
  compile: (files) => compileEachFile(files, ({ file, text }) => checkedSnippet(file, text)),
});

/** The real registry (sequences and templates are folders) plus two folder entries that exist only in tests. */
export const testRegistry = { ...configRegistry, notes, snippets };

/** A snippet may not contain `TODO`: the issue points at it. */
function checkedSnippet(file: string, text: string): string {
  const lines = text.split("\n");
  const line = lines.findIndex((content) => content.includes("TODO"));
  if (line === -1) return text;
  const column = (lines[line] as string).indexOf("TODO") + 1;
  throw new ConfigError([{ file, line: line + 1, column, path: "", message: "a TODO is left in" }]);
}
