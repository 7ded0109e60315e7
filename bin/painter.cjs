#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'out', 'cli', 'cli.cjs');
if (!existsSync(entry)) {
  process.stderr.write('painter: the CLI is not built; run "npm install" (or "npm run build:cli") in the Painter folder.\n');
  process.exit(1);
}
require(entry);
