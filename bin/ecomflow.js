#!/usr/bin/env node
// The CLI runs the compiled sources; `npm install` builds them (the `prepare` script).
import { main } from '../dist/cli/main.js';

// The local stack runs on Node 20 on purpose (Lambda runs the same code on nodejs22.x); the SDK's notice
// that its 2027 releases will need Node 22 is not news to a user of this CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await main(process.argv.slice(2));
