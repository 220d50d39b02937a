/**
 * Generators of adversarial values: text from every Unicode plane, names JavaScript objects
 * already have, nesting, huge lists, wrong types. Noise is kept as entry lists (not objects) so
 * that `__proto__` and repeated names reach the wire as written.
 */
import fc from "fast-check";
import { isIdentityName } from "./fuzz-oracle.ts";

/** `arbitrary` once in `oneIn` times, undefined otherwise. */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

/** Names every plain object inherits, and a few that libraries treat specially. */
export const prototypeNames = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupSetter__",
  "toJSON",
  "then",
] as const;

/** One code point from plane 0 to 16 (astral planes hold emoji, CJK extension B, tags, private use). */
const codePointOfAnyPlane = fc
  .record({ plane: fc.integer({ min: 0, max: 16 }), offset: fc.integer({ min: 0, max: 0xffff }) })
  .map(({ plane, offset }) => plane * 0x10000 + offset)
  .filter((codePoint) => codePoint < 0xd800 || codePoint > 0xdfff)
  .map((codePoint) => String.fromCodePoint(codePoint));

/** Text that is hard to get right: astral, combining, bidi, zero-width, BOM, NUL, line breaks. */
const awkward = fc.constantFrom(
  "😀",
  "👩🏽‍💻",
  "🏳️‍🌈",
  "𠮷野家",
  "\u{1D11E}",
  "\u{E0041}\u{E007F}",
  "\u{F0000}",
  "\u{10FFFD}",
  "e\u0301\u0301",
  "\u202Eevil",
  "\u200B",
  "\uFEFF",
  "\u0000",
  "\r\n",
  "\t",
  "İı",
  "ß",
  "\u00A0",
  "\u3000",
  '"\\/',
  "<script>",
  "%00%2F",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder is the point
  "${x}",
  "{{x}}",
);

/** Well-formed text drawn from every plane. */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: codePointOfAnyPlane, maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary-ascii", maxLength }) },
    { weight: 2, arbitrary: fc.array(awkward, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("")) },
  );
}

/** Text real SQS refuses, which a well-behaved sender may still put in a JSON string. */
export const illFormedText = fc.constantFrom("\uD800", "a\uDFFFb", "\uFFFE", "\uFFFF", "\uDBFF\uD800");

export type NoiseValue = string | number | boolean | null | NoiseValue[] | NoiseObject | { raw: string };
export interface NoiseObject {
  entries: [string, NoiseValue][];
}

const anyName = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...prototypeNames) },
  { weight: 4, arbitrary: anyText(24) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "a.b", "0", "-1", "1e3", "[]", "{}", "__proto__.x", "é") },
);

const scalar: fc.Arbitrary<NoiseValue> = fc.oneof(
  { weight: 5, arbitrary: anyText(60) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.bigInt({ min: 10n ** 15n, max: 10n ** 19n }).map((big) => ({ raw: big.toString() })) },
);

/** Nested objects and lists well inside the form limits (depth, fields, lengths). */
const nested: fc.Arbitrary<NoiseValue> = fc.letrec<{ value: NoiseValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 6 }) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(anyName, tie("value")), { maxLength: 5 })
        .map((entries): NoiseObject => ({ entries })),
    },
  ),
})).value;

/** Extra fields for a lead's body: never named like an identity field, even once flattened. */
export function noiseFields(
  options: { maxFields?: number; flat?: boolean } = {},
): fc.Arbitrary<NoiseObject["entries"]> {
  const value = options.flat ? anyText(80) : nested;
  return fc
    .array(fc.tuple(anyName, value), { maxLength: options.maxFields ?? 8 })
    .filter((entries) => !touchesIdentity({ entries }, ""));
}

/** Whether a flattened name of this noise could be read as an email, phone or country field. */
function touchesIdentity(object: NoiseObject, prefix: string): boolean {
  return object.entries.some(([name, value]) => {
    const key = prefix + name;
    if (isNoiseObject(value)) return touchesIdentity(value, `${key}.`);
    return isIdentityName(key);
  });
}

function isNoiseObject(value: NoiseValue): value is NoiseObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "entries" in value;
}

/** JSON text, writing each entry as given: `__proto__` and repeated names included. */
export function jsonText(value: NoiseValue): string {
  if (isNoiseObject(value)) {
    return `{${value.entries.map(([name, item]) => `${JSON.stringify(name)}:${jsonText(item)}`).join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (typeof value === "object" && value !== null) return value.raw;
  return JSON.stringify(value);
}

/** The heavy shapes the hardening issue names; each goes in one field of an otherwise good lead. */
export interface HeavyNoise {
  what: string;
  entries: NoiseObject["entries"];
}

export const heavyNoise: fc.Arbitrary<HeavyNoise> = fc.oneof(
  fc.integer({ min: 100, max: 6_000 }).map(
    (depth): HeavyNoise => ({
      what: `lists nested ${depth} deep`,
      entries: [["nested_list", { raw: `${"[".repeat(depth)}${"]".repeat(depth)}` }]],
    }),
  ),
  fc.integer({ min: 2, max: 40 }).map(
    (depth): HeavyNoise => ({
      what: `objects nested ${depth} deep`,
      entries: [["nested", { raw: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` }]],
    }),
  ),
  fc.record({ length: fc.integer({ min: 1_000, max: 60_000 }), text: fc.boolean() }).map(
    ({ length, text }): HeavyNoise => ({
      what: `a list of ${length} ${text ? "strings" : "numbers"}`,
      entries: [
        ["huge_list", { raw: `[${Array.from({ length }, (_, i) => (text ? `"v${i % 10}"` : i % 10)).join(",")}]` }],
      ],
    }),
  ),
  fc.integer({ min: 400, max: 650 }).map(
    (count): HeavyNoise => ({
      what: `${count} fields`,
      entries: Array.from({ length: count }, (_, i): [string, NoiseValue] => [`field_${i}`, "x"]),
    }),
  ),
  fc.record({ length: fc.integer({ min: 200, max: 400 }), unit: fc.constantFrom("a", "😀") }).map(
    ({ length, unit }): HeavyNoise => ({
      what: `a field name of ${length} × "${unit}"`,
      entries: [[unit.repeat(length), "x"]],
    }),
  ),
  fc.record({ length: fc.integer({ min: 4_000, max: 12_000 }), unit: fc.constantFrom("a", "é", "😀") }).map(
    ({ length, unit }): HeavyNoise => ({
      what: `a value of ${length} × "${unit}"`,
      entries: [["long_value", unit.repeat(length)]],
    }),
  ),
  fc.integer({ min: 270, max: 1_500 }).map(
    (kilobytes): HeavyNoise => ({
      what: `a ${kilobytes} KB body`,
      entries: Array.from({ length: Math.ceil((kilobytes * 1024) / 9_000) }, (_, i): [string, NoiseValue] => [
        `part_${i}`,
        "z".repeat(9_000),
      ]),
    }),
  ),
);

/** A short label for noise in failure messages: how many fields and what is unusual in them. */
export function describeNoise(entries: NoiseObject["entries"]): string {
  if (entries.length === 0) return "no extra fields";
  const text = jsonText({ entries });
  const traits = [
    /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(text) && "astral text",
    entries.some(([name]) => (prototypeNames as readonly string[]).includes(name)) && "prototype names",
    /\{"[^"]*":\{/.test(text) && "nested objects",
    /\[\[|\[\{/.test(text) && "nested lists",
    /[\uFFFE\uFFFF]|\\ud[89a-f]/i.test(text) && "text SQS refuses",
  ].filter(Boolean);
  return `${entries.length} extra field${entries.length === 1 ? "" : "s"}${traits.length ? ` (${traits.join(", ")})` : ""}`;
}
