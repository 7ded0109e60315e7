// Preloaded into a CLI child by tests (node --require): on exit, writes the
// process's peak resident set size (KB) to $PAINTER_RSS_FILE, so a test can
// bound the memory a command used without polling it.
'use strict';
const { writeFileSync } = require('node:fs');

const target = process.env.PAINTER_RSS_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, String(process.resourceUsage().maxRSS));
  });
}
