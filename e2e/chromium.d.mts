// Types of chromium.mjs for the TypeScript benches that import it.
import type { BrowserContext, LaunchOptions } from 'playwright-core';

export declare const CHROMIUM_ARGS: string[];
export declare function launchChromium(prefix: string, options?: LaunchOptions & Record<string, unknown>): Promise<{ context: BrowserContext; close(): Promise<void> }>;
