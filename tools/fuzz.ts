/**
 * Placeholder for `deno task fuzz`: the protocol decoder fuzzer replaces this file.
 *
 * @module
 */

console.log("Monocoque: no fuzz targets yet");
