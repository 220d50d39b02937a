import { isMap, isNode, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** A config file that cannot be used; each issue points at a line and column. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.issues = issues;
  }
}

export function formatIssue({ file, line, column, path, message }: ConfigIssue): string {
  return `${file}:${line}:${column}${path ? ` ${path}:` : ""} ${message}`;
}

/** Parses YAML and validates it; syntax and schema mistakes alike come back with their position. */
export function parseYamlConfig<Schema extends z.ZodType>(
  text: string,
  file: string,
  schema: Schema,
): z.output<Schema> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);

  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => ({
        file,
        ...columnOf(at(error.pos[0])),
        path: "",
        message: error.message.split("\n")[0] ?? error.message,
      })),
    );
  }
  const result = schema.safeParse(document.toJS() ?? {});
  if (result.success) return result.data;

  throw new ConfigError(
    result.error.issues.map((issue) => {
      const path = issue.path as (string | number)[];
      const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
      const position = at(
        unknownKey === undefined ? offsetOf(document, path) : keyOffsetOf(document, path, unknownKey),
      );
      const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
      return {
        file,
        ...columnOf(position),
        path: issue.path.join("."),
        message: missing ? "is required" : issue.message,
      };
    }),
  );
}

function columnOf({ line, col }: { line: number; col: number }): { line: number; column: number } {
  return { line, column: col };
}

/** Where `key` itself is written in the map at `path` (not its value). */
function keyOffsetOf(document: ReturnType<typeof parseDocument>, path: (string | number)[], key: string): number {
  const map = path.length === 0 ? document.contents : document.getIn(path, true);
  if (isMap(map)) {
    const item = map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
    if (item && isNode(item.key) && item.key.range) return item.key.range[0];
  }
  return offsetOf(document, path);
}

/** The start of the deepest node that exists along `path` (a missing key points at its parent). */
function offsetOf(document: ReturnType<typeof parseDocument>, path: (string | number)[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}
