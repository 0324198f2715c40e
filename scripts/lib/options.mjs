// Command-line options of the bench and load scripts: node's util.parseArgs (strict, so an unknown
// option or a missing value is an error) plus a typed check per option, so each script declares its
// options instead of walking argv by hand. A bad option prints the script's usage and exits 2.
import { parseArgs } from "node:util";

// A number in [min, max] (whole when integer is set).
export const number = ({ min = Number.MIN_VALUE, max = Infinity, integer = false } = {}) => (text, flag) => {
  const v = Number(text);
  if (text === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const kind = integer ? "a whole number" : "a number";
    const range = max === Infinity ? (min === Number.MIN_VALUE ? " above 0" : ` from ${min}`) : ` from ${min === Number.MIN_VALUE ? 0 : min} to ${max}`;
    throw new Error(`--${flag} needs ${kind}${range}, got ${text}`);
  }
  return v;
};

// A comma-separated list, each item checked by `item`.
export const list = (item) => (text, flag) => text.split(",").map((x) => item(x, flag));

// One of the given words.
export const oneOf = (...words) => (text, flag) => {
  if (!words.includes(text)) throw new Error(`--${flag} needs one of ${words.join("|")}, got ${text}`);
  return text;
};

// A non-empty text (a file name).
export const text = () => (value, flag) => {
  if (!value) throw new Error(`--${flag} needs a value`);
  return value;
};

const camel = (flag) => flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

// spec: { "flag-name": { check?, short?, default? } }; an option without `check` is a boolean flag.
// Answers { flagName: value } with the defaults filled in (booleans default to false).
export function readOptions(argv, spec, { name, usage }) {
  const fail = (message) => {
    if (message) console.error(`${name}: ${message}`);
    console.error(usage);
    process.exit(message ? 2 : 0);
  };
  const options = { help: { type: "boolean", short: "h" } };
  for (const [flag, s] of Object.entries(spec)) options[flag] = { type: s.check ? "string" : "boolean", ...(s.short ? { short: s.short } : {}) };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) fail();
  const out = {};
  for (const [flag, s] of Object.entries(spec)) {
    const given = values[flag];
    try {
      out[camel(flag)] = given === undefined ? (s.check ? s.default ?? null : false) : s.check ? s.check(given, flag) : true;
    } catch (e) {
      fail(e.message);
    }
  }
  return out;
}
