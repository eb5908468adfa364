#!/usr/bin/env node
// The installed command runs the compiled CLI; `npm ci` compiles it (the `prepare` script).
import '../dist/src/cli/main.js';
