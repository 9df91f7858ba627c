/** Training defaults the page's wizard shares with the core (no tfjs here, so the main thread can import it). */

/**
 * Learning rate of QAT with int4 weights (chain-qat-int4.ts) when none is given. The PTQ start has every int4 layer's output bias corrected, and
 * from it MobileNetV1 0.25 (85 images, 4 epochs, distillation; npm run bench:qat-int4) gained 1.5 pt
 * at 1e-5 and 2e-5, while at 1e-4, the rate of QAT from a float model, the validation loss rose from
 * the first epoch and the PTQ model was kept. That split also chose the rate; on 5 folds of the 500
 * images (QAT on 400, scored on the 100 held out) 2e-5 gains 0.6 pt, 1.2 pt (56.60% -> 57.80%) from
 * the start that keeps the smallest 1% of int4 weights int8, and 1.0 pt (57.80% -> 58.80%) from the
 * 2% start of today (recipe.ts SMALL_INT4_SHARE), but -0.8 pt (56.80% -> 56.00%) on folds of the same
 * images taken i % 5: from 340 images QAT moves top-1 by about the noise either way.
 */
export const QAT_INT4_LEARNING_RATE = 2e-5;

/**
 * Distillation temperature of QAT with int4 weights (chain-qat-int4.ts) when none is given; see
 * FinetuneOptions.temperature. MobileNetV1 0.25 W4A8 on 5 folds of the 500 images (QAT on 400, scored
 * on the 100 held out; PTQ 56.60%, the 1% start): T = 1 57.80%, T = 2 56.80%, T = 4 57.20% (npm run bench:qat-int4
 * -- --folds 5 --temperature T), though the single 85-image split gave 58.00% at T = 2 and 4 against
 * 56.75% at T = 1.
 */
export const QAT_INT4_TEMPERATURE = 1;
