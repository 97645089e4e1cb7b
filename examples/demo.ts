/**
 * Placeholder for the Monocoque demo (`deno task demo`); the real demo replaces this file.
 *
 * @module
 */

console.log("Monocoque: the demo is not written yet");
