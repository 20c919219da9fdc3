#!/usr/bin/env node
// Installed command: runs the compiled gateway (built by `npm run build`, also on `npm ci`).
import '../dist/main.js';
