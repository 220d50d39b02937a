import { z } from "zod";

/**
 * One test on a value, written in config as exactly one operator: `equals`, `in`, `contains`,
 * `range`, `matches` or `exists`. Text comparisons ignore case. A condition on a field with
 * several values (a lead's sources) holds when any value passes.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const regex = z.string().superRefine((pattern, context) => {
  try {
    new RegExp(pattern, "iu");
  } catch (error) {
    context.addIssue({ code: "custom", message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

const range = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine(({ min, max }) => min !== undefined || max !== undefined, "give min, max or both")
  .refine(({ min, max }) => min === undefined || max === undefined || min <= max, "min must not exceed max");

export const operatorSchemas = {
  equals: scalar.describe("the value, compared ignoring case"),
  in: z.array(scalar).min(1).describe("any of these values, compared ignoring case"),
  contains: z.string().min(1).describe("a substring, ignoring case"),
  range: range.describe("a number between min and max, inclusive; text like '51-200' reads as 51"),
  matches: regex.describe("a regular expression (JavaScript syntax), ignoring case"),
  exists: z.boolean().describe("true: the value is present; false: it is absent"),
} as const;

export type Operator = keyof typeof operatorSchemas;
export const operators = Object.keys(operatorSchemas) as Operator[];

export type ConditionOperator =
  | { equals: string | number | boolean }
  | { in: (string | number | boolean)[] }
  | { contains: string }
  | { range: { min?: number | undefined; max?: number | undefined } }
  | { matches: string }
  | { exists: boolean };

/** A condition with `extra` keys (e.g. `field`) beside its one operator. */
export function conditionSchema<Extra extends z.ZodRawShape>(extra: Extra) {
  const optionalOperators = Object.fromEntries(
    operators.map((operator) => [operator, operatorSchemas[operator].optional()]),
  ) as { [Key in Operator]: z.ZodOptional<(typeof operatorSchemas)[Key]> };
  return z.strictObject({ ...extra, ...optionalOperators }).superRefine((condition, context) => {
    const given = operators.filter((operator) => (condition as Record<string, unknown>)[operator] !== undefined);
    if (given.length === 1) return;
    context.addIssue({
      code: "custom",
      path: given.length > 1 ? [given[1] as string] : [],
      message:
        given.length === 0
          ? `give one test: ${operators.join(", ")}`
          : `give one test only, not ${given.join(" and ")}`,
    });
  });
}

export type Predicate = (values: readonly string[]) => boolean;

export function compileCondition(condition: ConditionOperator): Predicate {
  if ("exists" in condition) return (values) => values.length > 0 === condition.exists;
  const test = valueTest(condition);
  return (values) => values.some(test);
}

function valueTest(condition: Exclude<ConditionOperator, { exists: boolean }>): (value: string) => boolean {
  if ("equals" in condition) {
    const expected = String(condition.equals).toLowerCase();
    return (value) => value.toLowerCase() === expected;
  }
  if ("in" in condition) {
    const expected = new Set(condition.in.map((item) => String(item).toLowerCase()));
    return (value) => expected.has(value.toLowerCase());
  }
  if ("contains" in condition) {
    const needle = condition.contains.toLowerCase();
    return (value) => value.toLowerCase().includes(needle);
  }
  if ("matches" in condition) {
    const pattern = new RegExp(condition.matches, "iu");
    return (value) => pattern.test(value);
  }
  const { min = -Infinity, max = Infinity } = condition.range;
  return (value) => {
    const number = leadingNumber(value);
    return number !== undefined && number >= min && number <= max;
  };
}

/** The first number in a text: "1,000+" is 1000, "51-200" is 51, "$25k" is 25. */
export function leadingNumber(value: string): number | undefined {
  const match = /-?\d[\d,]*(\.\d+)?/.exec(value);
  if (!match) return undefined;
  const number = Number(match[0].replaceAll(",", ""));
  return Number.isFinite(number) ? number : undefined;
}
