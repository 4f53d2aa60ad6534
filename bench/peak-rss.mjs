// Preloaded into a benchmarked process: records its peak resident set size (KiB) at exit.
import { writeFileSync } from 'node:fs';

const target = process.env.ECOMFLOW_BENCH_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
