#!/usr/bin/env node
// The CLI runs the compiled sources; `npm install` builds them (the `prepare` script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
