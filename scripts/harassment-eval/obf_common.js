// Shared driver code for the npm obfuscation tools of scripts/harassment-eval
// (obf_confusables.js, obf_lunicode.js). Each tool file gives a table
// letter -> list of look-alikes taken from the tool; this file applies it:
//
// Rate: RATE is a percentage p. Each ASCII letter of "text" is, with probability p/100,
// replaced by a look-alike chosen at random among the tool's look-alikes for it; a letter
// with none is kept. Non-letters are never touched. The generator is seeded with 17 for
// every output file, so a rerun writes the same bytes.
'use strict';
const fs = require('fs');

const SEED = 17;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

// mulberry32: a small seeded generator (Math.random cannot be seeded); returns [0, 1).
function seeded(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function obfuscate(text, table, p, rnd) {
  let out = '';
  for (const ch of text) { // by code point
    const alts = table[ch];
    if (alts !== undefined && rnd() < p && alts.length > 0) { // one draw per ASCII letter
      out += alts[Math.floor(rnd() * alts.length)];
    } else {
      out += ch;
    }
  }
  return out;
}

// Checks the installed version against the pin, then either prints the coverage
// (--coverage) or rewrites IN.jsonl into OUT.jsonl at RATE percent.
function run({ tool, pkg, pinned, table, usage }) {
  const installed = require(`${pkg}/package.json`).version;
  if (installed !== pinned) die(tool, `installed ${pkg} ${installed} is not the pinned ${pinned}`);
  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === '--coverage') {
    const covered = [...LETTERS].filter((c) => table[c].length > 0).join('');
    const lookalikes = [...LETTERS].reduce((n, c) => n + table[c].length, 0);
    console.log(JSON.stringify({ tool, version: pinned, covered, lookalikes }));
    return;
  }
  if (args.length !== 3) die(tool, usage);
  const [src, dst] = args;
  const rate = Number.parseInt(args[2], 10);
  const rnd = seeded(SEED);
  const lines = fs.readFileSync(src, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = lines.map((line, i) => {
    let obj;
    try { obj = JSON.parse(line); } catch (e) { die(tool, `${src}:${i + 1}: not JSON: ${e.message}`); }
    if (obj === null || typeof obj.text !== 'string') die(tool, `${src}:${i + 1}: no string field "text"`);
    obj.text = obfuscate(obj.text, table, rate / 100, rnd);
    obj.tool = tool;
    obj.rate = rate;
    return JSON.stringify(obj) + '\n';
  });
  fs.writeFileSync(dst, out.join(''), 'utf8');
}

function die(tool, msg) {
  process.stderr.write(`${tool}: ${msg}\n`);
  process.exit(1);
}

// letter -> sorted, de-duplicated single-code-point look-alikes other than the letter itself
function tableFrom(get) {
  const table = {};
  for (const c of LETTERS) {
    const alts = new Set((get(c) || []).filter((s) => s !== c && [...s].length === 1));
    table[c] = [...alts].sort();
  }
  return table;
}

module.exports = { run, tableFrom };
