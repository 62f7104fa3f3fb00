// Node.js: the .wasm bytes are read from next to this file and
// instantiated synchronously on import.
import { readFileSync } from "node:fs";
import { initSync } from "./edge_options.js";

initSync({ module: readFileSync(new URL("./edge_options_bg.wasm", import.meta.url)) });

export { Store } from "./hot.js";

// The edge-options Worker over a service binding or HTTP (plain JS, no wasm;
// import "edge-options/client" to ship only this).
export { EdgeOptionsClient } from "./client.js";
