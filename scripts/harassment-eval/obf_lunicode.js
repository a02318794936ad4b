#!/usr/bin/env node
// Obfuscate a JSONL corpus with the npm tool `lunicode` (fancy-text effects).
//
// Tool:  lunicode 2.0.1 (npm), https://github.com/combatwombat/Lunicode.js, by Robert Gerlach, MIT licence.
// Data:  lunicode only transforms whole strings, so each letter is passed alone to the effects
//        below and the letter's look-alikes are their distinct one-code-point outputs
//        (e.g. 'a' -> 'ą' bent, 'ⓐ' bubbles, 'ᴀ' tiny). Left out: flip and mirror (they turn letters
//        into other letters, b <-> d), squares and roundsquares (they add a combining mark and
//        padding, the letter itself stays), creepify (random diacritics).
// Rate:  see obf_common.js: each ASCII letter is replaced with probability RATE/100, seed 17.
//
// Usage: obf_lunicode.js IN.jsonl OUT.jsonl RATE   |   obf_lunicode.js --coverage
// Output: each input object with "text" replaced and "tool": "lunicode", "rate": RATE added.
'use strict';
const luni = require('lunicode');
const { run, tableFrom } = require('./obf_common');

const EFFECTS = ['bent', 'bubbles', 'tiny'];

run({
  tool: 'lunicode',
  pkg: 'lunicode',
  pinned: '2.0.1',
  table: tableFrom((c) => EFFECTS.map((e) => luni.tools[e].encode(c))),
  usage: 'usage: obf_lunicode.js IN.jsonl OUT.jsonl RATE | --coverage',
});
