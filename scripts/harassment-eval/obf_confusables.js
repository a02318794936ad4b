#!/usr/bin/env node
// Obfuscate a JSONL corpus with the npm tool `confusables`.
//
// Tool:  confusables 1.1.1 (npm), https://github.com/gc/confusables, by GitHub user gc (copyright line of its LICENSE.md), MIT licence.
// Data:  the look-alikes of a letter are the tool's own table, alphabetMap.get(letter) (the same
//        table its obfuscate() draws from; we draw ourselves because obfuscate() uses the unseeded
//        Math.random and always replaces every letter).
// Rate:  see obf_common.js: each ASCII letter is replaced with probability RATE/100, seed 17.
//
// Usage: obf_confusables.js IN.jsonl OUT.jsonl RATE   |   obf_confusables.js --coverage
// Output: each input object with "text" replaced and "tool": "confusables", "rate": RATE added.
'use strict';
const { alphabetMap } = require('confusables');
const { run, tableFrom } = require('./obf_common');

run({
  tool: 'confusables',
  pkg: 'confusables',
  pinned: '1.1.1',
  table: tableFrom((c) => alphabetMap.get(c)),
  usage: 'usage: obf_confusables.js IN.jsonl OUT.jsonl RATE | --coverage',
});
